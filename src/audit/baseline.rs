//! Baselines: a requirement held to every resource of the kinds it names, and the controls of
//! a compliance framework that each reason code breaks. The shipped ones are data
//! (`policies/compliance/*.yaml`, embedded); a user's `--baseline FILE` is read the same way and
//! checked like the config: every problem with file, line, column and a hint.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path as FsPath;

use serde_yaml::{Mapping, Value};
use yamlcheck::{Diagnostics, FileChecker, Limits, Path, ReadError};

use super::report::Control;
use crate::config::schema::mapping_keys;
use crate::coverage::{Approved, DestinationType, REASON_CODES, Requirement};
use crate::model::{AggregationInterval, ResourceKind, TrafficType};

/// The shipped baselines: (name, file text).
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "cis-aws-foundations",
        include_str!("../../policies/compliance/cis-aws-foundations.yaml"),
    ),
    (
        "aws-fsbp",
        include_str!("../../policies/compliance/aws-fsbp.yaml"),
    ),
    (
        "flowkeeper",
        include_str!("../../policies/compliance/flowkeeper.yaml"),
    ),
];

/// The baseline used when there is no config and no `--baseline`.
pub const DEFAULT: &str = "cis-aws-foundations";

/// The `controls:` key that applies to every reason code.
const ANY_REASON: &str = "any";

#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    pub name: String,
    pub title: String,
    pub notes: Option<String>,
    /// The resource kinds held to the requirement; the others are out of scope.
    pub kinds: BTreeSet<ResourceKind>,
    pub requirement: Requirement,
    /// Reason code → the controls it breaks.
    pub controls: BTreeMap<String, Vec<Control>>,
}

impl Baseline {
    /// The controls a reason code breaks.
    pub fn controls_for(&self, code: &str) -> Vec<Control> {
        self.controls.get(code).cloned().unwrap_or_default()
    }

    /// `--approved-destination`: from "any" it narrows to the given ones, to a list it adds.
    pub fn approve(&mut self, destinations: &[String]) {
        if destinations.is_empty() {
            return;
        }
        let mut set = match &self.requirement.destinations {
            Approved::Any => BTreeSet::new(),
            Approved::Patterns(p) => p.clone(),
        };
        set.extend(destinations.iter().cloned());
        self.requirement.destinations = Approved::Patterns(set);
    }
}

/// Where a baseline came from, for `--baseline NAME|FILE`.
#[derive(Debug)]
pub enum LoadError {
    /// Neither a shipped name nor a readable file.
    Unknown {
        given: String,
        hint: String,
    },
    Invalid(Diagnostics),
}

/// A shipped baseline by name, or a file.
pub fn load(given: &str) -> Result<Baseline, LoadError> {
    if let Some((name, text)) = SHIPPED.iter().find(|(n, _)| *n == given) {
        let label = format!("policies/compliance/{name}.yaml (built in)");
        return parse(FsPath::new(&label), text).map_err(LoadError::Invalid);
    }
    let path = FsPath::new(given);
    match yamlcheck::read_to_string(path, &Limits::DEFAULT) {
        Ok(text) => parse(path, &text).map_err(LoadError::Invalid),
        Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            let names: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
            let same_but_case = names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(given))
                .map(|n| format!("did you mean `{n}`?"));
            let hint = same_but_case
                .or_else(|| yamlcheck::did_you_mean(given, names.iter().copied()))
                .map_or_else(
                    || {
                        format!(
                            "shipped baselines: {}; or the path of a baseline file",
                            names.join(", ")
                        )
                    },
                    |h| format!("{h} (shipped baselines: {})", names.join(", ")),
                );
            Err(LoadError::Unknown {
                given: given.to_string(),
                hint,
            })
        }
        Err(ReadError::Io(e)) => Err(LoadError::Invalid(Diagnostics::whole_file(
            path,
            format!("cannot read the baseline: {e}"),
            None,
        ))),
        Err(ReadError::TooBig) => Err(LoadError::Invalid(Diagnostics::whole_file(
            path,
            format!(
                "the baseline is larger than {}",
                yamlcheck::human_bytes(Limits::DEFAULT.max_bytes)
            ),
            None,
        ))),
    }
}

/// Checks baseline text; `file` only names it in messages.
pub fn parse(file: &FsPath, text: &str) -> Result<Baseline, Diagnostics> {
    yamlcheck::check(file, text, baseline)
}

mapping_keys!(TopKey {
    Name => "name",
    Title => "title",
    Notes => "notes",
    Resources => "resources",
    Requirement => "requirement",
    Controls => "controls",
});
mapping_keys!(ReqKey {
    TrafficType => "traffic_type",
    DestinationTypes => "destination_types",
    ApprovedDestinations => "approved_destinations",
    RequiredFields => "required_fields",
    MaxAggregationInterval => "max_aggregation_interval",
});
mapping_keys!(ControlKey {
    Id => "id",
    Version => "version",
});

fn baseline(root: &Value, c: &mut FileChecker) -> Option<Baseline> {
    let top = Path::default();
    let m = c.mapping(root, &top, "a baseline")?;
    let mut name = None;
    let mut title = None;
    let mut notes = None;
    let mut kinds = None;
    let mut requirement = None;
    let mut controls = None;
    for (key, v) in c.entries(
        m,
        &top,
        TopKey::NAMES,
        &["name", "resources", "requirement"],
        "a baseline",
    ) {
        let p = top.key(key);
        let Some(k) = TopKey::parse(key) else {
            continue;
        };
        match k {
            TopKey::Name => name = c.string(v, &p, "`name`").map(str::to_string),
            TopKey::Title => title = c.string(v, &p, "`title`").map(str::to_string),
            TopKey::Notes => notes = c.string(v, &p, "`notes`").map(str::to_string),
            TopKey::Resources => kinds = resource_kinds(v, &p, c),
            TopKey::Requirement => requirement = requirement_value(v, &p, c),
            TopKey::Controls => controls = control_map(v, &p, c),
        }
    }
    let name = name?;
    let controls = controls
        .unwrap_or_default()
        .into_iter()
        .map(|(code, list)| {
            let list = list
                .into_iter()
                .map(|(id, version)| Control {
                    framework: name.clone(),
                    id,
                    version,
                })
                .collect();
            (code, list)
        })
        .collect();
    Some(Baseline {
        title: title.unwrap_or_else(|| name.clone()),
        name,
        notes,
        kinds: kinds?,
        requirement: requirement?,
        controls,
    })
}

fn resource_kinds(v: &Value, p: &Path, c: &mut FileChecker) -> Option<BTreeSet<ResourceKind>> {
    let items = c.sequence(v, p, "`resources`")?;
    let mut out = BTreeSet::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        if let Some(hint) = synonym(
            item,
            &[
                ("eni", "network-interface"),
                ("interface", "network-interface"),
            ],
        ) {
            c.at_value(
                &p.index(i),
                "not a resource kind (vpc, subnet, network-interface)",
                Some(hint),
            );
            ok = false;
            continue;
        }
        match c
            .choice(
                item,
                &p.index(i),
                "a resource kind",
                &["vpc", "subnet", "network-interface"],
            )
            .and_then(ResourceKind::from_config_name)
        {
            Some(k) => {
                out.insert(k);
            }
            None => ok = false,
        }
    }
    if ok && out.is_empty() {
        c.at_value(
            p,
            "`resources` is empty",
            Some("name at least `vpc`".into()),
        );
        return None;
    }
    ok.then_some(out)
}

fn requirement_value(v: &Value, p: &Path, c: &mut FileChecker) -> Option<Requirement> {
    let m: &Mapping = c.mapping(v, p, "`requirement`")?;
    let mut traffic = None;
    let mut types = Some(DestinationType::ALL.into_iter().collect());
    let mut approved = Some(Approved::Any);
    let mut fields = Some(Vec::new());
    let mut interval = Some(None);
    for (key, v) in c.entries(m, p, ReqKey::NAMES, &["traffic_type"], "`requirement`") {
        let kp = p.key(key);
        let Some(k) = ReqKey::parse(key) else {
            continue;
        };
        match k {
            ReqKey::TrafficType => {
                traffic = c
                    .choice(v, &kp, "`traffic_type`", &["ALL", "ACCEPT", "REJECT"])
                    .and_then(TrafficType::parse)
            }
            ReqKey::DestinationTypes => types = destination_types(v, &kp, c),
            ReqKey::ApprovedDestinations => approved = approved_destinations(v, &kp, c),
            ReqKey::RequiredFields => fields = required_fields(v, &kp, c),
            ReqKey::MaxAggregationInterval => {
                interval = c
                    .choice(v, &kp, "`max_aggregation_interval`", &["60", "600"])
                    .and_then(|s| s.parse().ok())
                    .and_then(AggregationInterval::from_seconds)
                    .map(Some)
            }
        }
    }
    Some(Requirement {
        traffic: traffic?,
        destinations: approved?,
        destination_types: types?,
        required_fields: fields?,
        max_interval: interval?,
    })
}

/// "did you mean `network-interface`?" for a common other name of a choice (AWS's own
/// spellings, or short forms), which edit distance alone would not find.
fn synonym(item: &Value, synonyms: &[(&str, &str)]) -> Option<String> {
    let s = item.as_str()?.to_ascii_lowercase();
    synonyms
        .iter()
        .find(|(other, _)| *other == s)
        .map(|(_, right)| format!("did you mean `{right}`?"))
}

fn destination_types(
    v: &Value,
    p: &Path,
    c: &mut FileChecker,
) -> Option<BTreeSet<DestinationType>> {
    let items = c.sequence(v, p, "`destination_types`")?;
    let names: Vec<&str> = DestinationType::ALL.iter().map(|t| t.name()).collect();
    let mut out = BTreeSet::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        if let Some(hint) = synonym(
            item,
            &[
                ("firehose", "kinesis-data-firehose"),
                ("kinesis", "kinesis-data-firehose"),
                ("cloudwatch-logs", "cloud-watch-logs"),
                ("cloudwatch", "cloud-watch-logs"),
            ],
        ) {
            c.at_value(
                &p.index(i),
                "not a destination type (s3, cloud-watch-logs, kinesis-data-firehose)",
                Some(hint),
            );
            ok = false;
            continue;
        }
        match c
            .choice(item, &p.index(i), "a destination type", &names)
            .and_then(DestinationType::parse)
        {
            Some(t) => {
                out.insert(t);
            }
            None => ok = false,
        }
    }
    if ok && out.is_empty() {
        c.at_value(
            p,
            "`destination_types` is empty: no flow log could ever qualify",
            Some(format!("list some of: {}", names.join(", "))),
        );
        return None;
    }
    ok.then_some(out)
}

fn approved_destinations(v: &Value, p: &Path, c: &mut FileChecker) -> Option<Approved> {
    let items = c.sequence(v, p, "`approved_destinations`")?;
    let mut out = BTreeSet::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match c.string(item, &p.index(i), "an approved destination") {
            Some(s) => {
                out.insert(s.to_string());
            }
            None => ok = false,
        }
    }
    if !ok {
        None
    } else if out.is_empty() {
        Some(Approved::Any)
    } else {
        Some(Approved::Patterns(out))
    }
}

/// A list of field names, or `vN`: every VPC field of versions up to N.
fn required_fields(v: &Value, p: &Path, c: &mut FileChecker) -> Option<Vec<String>> {
    if let Value::String(s) = v {
        let version = s
            .strip_prefix('v')
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (2..=8).contains(n));
        let Some(version) = version else {
            c.at_value(
                p,
                format!("`required_fields` must be a list of field names or v2 … v8, found `{s}`"),
                Some("`v5` means every field of flow log versions 2 to 5".into()),
            );
            return None;
        };
        return Some(
            flowlog::field::vpc_fields()
                .iter()
                .filter(|f| f.version <= version)
                .map(|f| f.name.to_string())
                .collect(),
        );
    }
    let items = c.sequence(v, p, "`required_fields`")?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let ip = p.index(i);
        let Some(name) = c.string(item, &ip, "a field name") else {
            ok = false;
            continue;
        };
        if crate::model::log_format::is_known_field(name) {
            out.push(name.to_string());
        } else {
            ok = false;
            let hint = yamlcheck::did_you_mean(name, crate::model::log_format::known_field_names());
            c.at_value(&ip, format!("`{name}` is not a VPC flow log field"), hint);
        }
    }
    ok.then_some(out)
}

type ControlList = Vec<(String, Option<String>)>;

fn control_map(v: &Value, p: &Path, c: &mut FileChecker) -> Option<BTreeMap<String, ControlList>> {
    let m = c.mapping(v, p, "`controls`")?;
    let mut allowed: Vec<&str> = REASON_CODES.to_vec();
    allowed.push(ANY_REASON);
    let mut out: BTreeMap<String, ControlList> = BTreeMap::new();
    let mut ok = true;
    for (code, list) in c.entries(m, p, &allowed, &[], "`controls` (reason codes)") {
        let Some(list) = control_list(list, &p.key(code), c) else {
            ok = false;
            continue;
        };
        if code == ANY_REASON {
            for r in REASON_CODES {
                out.entry(r.to_string()).or_default().extend(list.clone());
            }
        } else {
            out.entry(code.to_string()).or_default().extend(list);
        }
    }
    ok.then_some(out)
}

fn control_list(v: &Value, p: &Path, c: &mut FileChecker) -> Option<ControlList> {
    let items = c.sequence(v, p, "a reason's controls")?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let ip = p.index(i);
        let Some(m) = c.mapping(item, &ip, "a control") else {
            ok = false;
            continue;
        };
        let mut id = None;
        let mut version = None;
        for (key, v) in c.entries(m, &ip, ControlKey::NAMES, &["id"], "a control") {
            let kp = ip.key(key);
            match ControlKey::parse(key) {
                Some(ControlKey::Id) => id = c.scalar_text(v, &kp, "`id`"),
                Some(ControlKey::Version) => version = c.scalar_text(v, &kp, "`version`"),
                None => {}
            }
        }
        match id {
            Some(id) => out.push((id, version)),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

#[cfg(test)]
mod tests;
