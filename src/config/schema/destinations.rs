//! `destinations:`: S3 and CloudWatch Logs destinations, their names, encryption and lifecycle.

use super::*;

pub(super) fn destination_map(
    v: &Value,
    path: &Path,
    c: &mut FileChecker,
) -> BTreeMap<String, Destination> {
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

pub(super) fn destination(
    name: &str,
    v: &Value,
    path: &Path,
    c: &mut FileChecker,
) -> Option<Destination> {
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
pub(super) fn misplaced_key_hint(key: &str, is_s3: bool) -> Option<String> {
    let (other, kind) = if is_s3 {
        (CwlKey::NAMES, "cloudwatch-logs")
    } else {
        (S3Key::NAMES, "s3")
    };
    other
        .contains(&key)
        .then(|| format!("`{key}` applies only to `type: {kind}` destinations"))
}

pub(super) fn typed_entries<'v>(
    m: &'v Mapping,
    path: &Path,
    what: &str,
    is_s3: bool,
    c: &mut FileChecker,
) -> Vec<(&'v str, &'v Value)> {
    let (allowed, required) = if is_s3 {
        (S3Key::NAMES, &["bucket"][..])
    } else {
        (CwlKey::NAMES, &["log_group"][..])
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

pub(super) fn s3_destination(
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
        let Some(k) = S3Key::parse(key) else {
            continue;
        };
        match k {
            S3Key::Type => {}
            S3Key::Account => d.account = account_id(v, &p, c),
            S3Key::Bucket => {
                bucket = template(v, &p, "`bucket`", c).filter(|t| check_bucket_name(t, &p, c))
            }
            S3Key::Prefix => {
                d.prefix = c
                    .string(v, &p, "`prefix`")
                    .and_then(|s| check_prefix(s, &p, c))
            }
            S3Key::Create => d.create = c.boolean(v, &p, "`create`").unwrap_or(false),
            S3Key::Region => {
                d.region = c
                    .string(v, &p, "`region`")
                    .filter(|r| check_region(r, &p, c))
                    .map(str::to_string)
            }
            S3Key::Encryption => match encryption(v, &p, c) {
                Some(e) => d.encryption = e,
                None => ok = false,
            },
            S3Key::Lifecycle => d.lifecycle = lifecycle(v, &p, c),
            S3Key::FileFormat => {
                if let Some(f) = c.choice(v, &p, "`file_format`", &["plain-text", "parquet"]) {
                    d.options.file_format = FileFormat::parse(f).expect("choice");
                }
            }
            S3Key::HiveCompatiblePartitions => {
                d.options.hive_compatible_partitions = c
                    .boolean(v, &p, "`hive_compatible_partitions`")
                    .unwrap_or(false)
            }
            S3Key::PerHourPartition => {
                d.options.per_hour_partition =
                    c.boolean(v, &p, "`per_hour_partition`").unwrap_or(false)
            }
        }
    }
    d.bucket = bucket?;
    ok.then_some(d)
}

pub(super) fn cwl_destination(
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
        let Some(k) = CwlKey::parse(key) else {
            continue;
        };
        match k {
            CwlKey::Type => {}
            CwlKey::LogGroup => {
                log_group = template(v, &p, "`log_group`", c).filter(|t| check_log_group(t, &p, c))
            }
            CwlKey::RetentionDays => {
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
            CwlKey::KmsKey => {
                kms_key = template(v, &p, "`kms_key`", c).filter(|t| check_kms_arn(t.raw(), &p, c))
            }
            CwlKey::DeliveryRole => {
                delivery_role =
                    template(v, &p, "`delivery_role`", c).filter(|t| check_role_name(t, &p, c))
            }
        }
    }
    Some(CloudWatchDestination {
        log_group: log_group?,
        retention_days,
        kms_key,
        delivery_role: delivery_role?,
    })
}

pub(super) fn template(
    v: &Value,
    path: &Path,
    what: &str,
    c: &mut FileChecker,
) -> Option<NameTemplate> {
    let s = c.string(v, path, what)?;
    NameTemplate::parse(s)
        .map_err(|e| c.at_value(path, e, None))
        .ok()
}

/// Names rendered with a sample account and region so that templates are checked too.
pub(super) fn sample(t: &NameTemplate) -> String {
    t.render("123456789012", "ap-southeast-2")
}

pub(super) fn check_bucket_name(t: &NameTemplate, path: &Path, c: &mut FileChecker) -> bool {
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

pub(super) fn check_prefix(s: &str, path: &Path, c: &mut FileChecker) -> Option<String> {
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

pub(super) fn check_log_group(t: &NameTemplate, path: &Path, c: &mut FileChecker) -> bool {
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

pub(super) fn check_role_name(t: &NameTemplate, path: &Path, c: &mut FileChecker) -> bool {
    check_role_name_text(&sample(t), path, c)
}

pub(super) fn check_role_name_text(s: &str, path: &Path, c: &mut FileChecker) -> bool {
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

pub(super) fn check_kms_arn(s: &str, path: &Path, c: &mut FileChecker) -> bool {
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

pub(super) fn encryption(v: &Value, path: &Path, c: &mut FileChecker) -> Option<Encryption> {
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

pub(super) fn lifecycle(v: &Value, path: &Path, c: &mut FileChecker) -> Option<Lifecycle> {
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
