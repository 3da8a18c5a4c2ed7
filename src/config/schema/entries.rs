//! `flow_logs:` entries: selection, exclusion, destination references and log formats.

use super::*;

pub(super) fn entry_list(
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

pub(super) fn entry(
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
        EntryKey::NAMES,
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
    let mut interval = Some(AggregationInterval::TenMinutes);
    let mut tags = Some(BTreeMap::new());
    for (key, v) in entries {
        let p = path.key(key);
        let Some(k) = EntryKey::parse(key) else {
            continue;
        };
        match k {
            EntryKey::Resource => {}
            EntryKey::Name => {
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
            EntryKey::Select => select = selector(v, &p, resource, c),
            EntryKey::Exclude => exclude = exclusion(v, &p, resource, c).unwrap_or_default(),
            EntryKey::TrafficType => {
                traffic_type = c
                    .choice(v, &p, "`traffic_type`", &["ALL", "ACCEPT", "REJECT"])
                    .and_then(TrafficType::parse)
            }
            EntryKey::Destinations => destinations = destination_refs(v, &p, dests, c),
            EntryKey::Format => format = log_format(v, &p, c),
            EntryKey::MaxAggregationInterval => {
                interval = c
                    .choice(v, &p, "`max_aggregation_interval`", &["60", "600"])
                    .and_then(|s| s.parse().ok())
                    .and_then(AggregationInterval::from_seconds)
            }
            EntryKey::Tags => tags = tag_map(v, &p, "`tags`", true, c),
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

pub(super) fn selector(
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

pub(super) fn exclusion(
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

pub(super) fn id_list(
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

pub(super) fn tag_map(
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

pub(super) fn destination_refs(
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
pub(super) fn undeclared_hint(name: &str, dests: &BTreeSet<String>) -> String {
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

pub(super) fn log_format(v: &Value, path: &Path, c: &mut FileChecker) -> Option<LogFormat> {
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

pub(super) fn is_simple_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
}
