//! Accounts, organizations and regions: ids, account entries, `organization:` and region names.

use super::*;

pub(super) fn account_id(v: &Value, path: &Path, c: &mut FileChecker) -> Option<AccountId> {
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

pub(super) fn account_id_list(
    v: &Value,
    path: &Path,
    what: &str,
    c: &mut FileChecker,
) -> BTreeSet<AccountId> {
    let Some(items) = c.sequence(v, path, what) else {
        return BTreeSet::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| account_id(item, &path.index(i), c))
        .collect()
}

pub(super) fn account_list(v: &Value, path: &Path, c: &mut FileChecker) -> Vec<AccountSpec> {
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
        for (key, v) in c.entries(m, &p, AccountKey::NAMES, &["id"], "an account entry") {
            let kp = p.key(key);
            let Some(k) = AccountKey::parse(key) else {
                continue;
            };
            match k {
                AccountKey::Id => id = account_id(v, &kp, c),
                AccountKey::Name => spec.name = c.string(v, &kp, "`name`").map(str::to_string),
                AccountKey::RoleArn => {
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
                AccountKey::RoleName => {
                    spec.role_name = c
                        .string(v, &kp, "`role_name`")
                        .map(str::to_string)
                        .filter(|n| check_role_name_text(n, &kp, c))
                }
                AccountKey::ExternalId => {
                    spec.external_id = c.string(v, &kp, "`external_id`").map(str::to_string)
                }
                AccountKey::Regions => spec.regions = Some(regions_value(v, &kp, c)),
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

pub(super) fn organization(v: &Value, path: &Path, c: &mut FileChecker) -> OrgSpec {
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

pub(super) fn region_list(v: &Value, path: &Path, c: &mut FileChecker) -> Vec<String> {
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
pub(super) fn check_region(r: &str, path: &Path, c: &mut FileChecker) -> bool {
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
