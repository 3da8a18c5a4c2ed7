//! The rule-pack schema: walks a (merged) YAML value, checks every key, type and semantic
//! rule (known detector kinds, CIDRs, thresholds ≥ 1, severities, service and zone
//! references, unique ids) and builds the [`RulePack`], collecting every error on the way.

use serde_yaml::Value;

use super::check::{Checker, Locator, suggestion};
use super::{
    DETECTOR_KINDS, DetectorSpec, Params, Probing, ReportSettings, RuleError, RulePack, Settings,
    SourceScope, UnknownInitiator,
};
use crate::addr::{CidrSet, Networks};
use crate::finding::{MAX_EVIDENCE, Severity};
use crate::services::{PortRange, Service, ServiceSet, TCP, parse_protocol};
use crate::zones::{RESERVED_ZONE_NAMES, Zone, ZoneRef, ZoneRule, Zones};
use yamlcheck::Path;

const TOP_KEYS: &[&str] = &[
    "version",
    "name",
    "description",
    "settings",
    "reports",
    "networks",
    "services",
    "zones",
    "detectors",
];

const COMMON_KEYS: &[&str] = &[
    "id",
    "detector",
    "severity",
    "enabled",
    "description",
    "window",
    "allow_sources",
    "allow_destinations",
    "max_keys",
];

/// Kind-specific keys: (kind, optional keys, required keys).
const KIND_KEYS: &[(&str, &[&str], &[&str])] = &[
    ("admin_port_exposure", &["min_sources"], &["services"]),
    (
        "port_scan",
        &[
            "probes_only",
            "sources",
            "min_probe_share",
            "escalate_accepted",
            "escalate_ignore",
        ],
        &["min_ports"],
    ),
    (
        "host_sweep",
        &[
            "probes_only",
            "sources",
            "min_probe_share",
            "escalate_accepted",
            "escalate_ignore",
        ],
        &["min_hosts"],
    ),
    ("exfiltration", &["exclude_aws_services"], &["min_bytes"]),
    (
        "lateral_movement",
        &["include_rejected"],
        &["services", "min_hosts"],
    ),
    ("trust_zones", &[], &[]),
    ("insecure_protocol", &[], &["services"]),
    ("reject_burst", &["sources"], &["min_rejects"]),
    ("log_health", &["min_records", "min_coverage"], &["status"]),
];

const SEVERITIES: &[&str] = &["info", "low", "medium", "high", "critical"];

/// Checks a merged pack value.
pub fn pack(v: &Value, locator: &Locator) -> Result<RulePack, Vec<RuleError>> {
    let mut c = Checker::new(locator);
    let root = Path::default();
    if v.is_null() {
        c.at_value(&root, "the rule pack is empty");
        return Err(c.into_errors());
    }
    let Some(m) = c.mapping(v, &root, "a rule pack") else {
        return Err(c.into_errors());
    };
    let mut pack = RulePack {
        name: None,
        settings: Settings::default(),
        reports: ReportSettings::default(),
        networks: Networks::default(),
        services: Vec::new(),
        zones: Zones::default(),
        detectors: Vec::new(),
    };
    let (mut services_v, mut zones_v, mut detectors_v) = (None, None, None);
    for (k, v) in c.entries(
        m,
        &root,
        TOP_KEYS,
        &["version", "detectors"],
        "the rule pack",
    ) {
        let p = root.key(k);
        match k {
            "version" => {
                if v.as_u64() != Some(1) {
                    c.at_value(
                        &p,
                        "unsupported pack version: this engine reads `version: 1`",
                    );
                }
            }
            "name" => pack.name = c.string(v, &p, "name").map(str::to_owned),
            "description" => {
                c.string(v, &p, "description");
            }
            "settings" => settings(&mut c, v, &p, &mut pack.settings),
            "reports" => reports(&mut c, v, &p, &mut pack.reports),
            "networks" => pack.networks = networks(&mut c, v, &p),
            "services" => services_v = Some(v),
            "zones" => zones_v = Some(v),
            _ => detectors_v = Some(v),
        }
    }
    if let Some(v) = services_v {
        pack.services = services(&mut c, v, &root.key("services"));
    }
    if let Some(v) = zones_v {
        pack.zones = zones(&mut c, v, &root.key("zones"), &pack.services);
    }
    if let Some(v) = detectors_v {
        pack.detectors = detectors(&mut c, v, &root.key("detectors"), &pack);
    }
    if c.sink.errors.is_empty() {
        Ok(pack)
    } else {
        Err(c.into_errors())
    }
}

fn settings(c: &mut Checker<'_>, v: &Value, p: &Path, s: &mut Settings) {
    let Some(m) = c.mapping(v, p, "settings") else {
        return;
    };
    let keys = [
        "allowed_lateness",
        "max_evidence",
        "max_keys",
        "dedupe",
        "dedupe_max_entries",
        "dedupe_budget",
        "dedupe_horizon",
        "initiator_unknown",
        "probe_max_packets",
        "probe_max_bytes",
        "max_incidents",
        "state_budget",
        "promote_at",
    ];
    for (k, v) in c.entries(m, p, &keys, &[], "settings") {
        let p = p.key(k);
        let what = format!("settings.{k}");
        match k {
            "allowed_lateness" => {
                if let Some(d) = c.duration(v, &p, &what, 0) {
                    s.allowed_lateness = d;
                }
            }
            "max_evidence" => {
                if let Some(n) = c.number(v, &p, &what, 1, MAX_EVIDENCE as u64) {
                    s.max_evidence = n as usize;
                }
            }
            "max_keys" => {
                if let Some(n) = c.number(v, &p, &what, 1, 10_000_000) {
                    s.max_keys = n as usize;
                }
            }
            "dedupe" => {
                if let Some(b) = c.boolean(v, &p, &what) {
                    s.dedupe = b;
                }
            }
            "dedupe_max_entries" => {
                if let Some(n) = c.number(v, &p, &what, 1, 100_000_000) {
                    s.dedupe_max_entries = n as usize;
                }
            }
            "dedupe_budget" => {
                if let Some(n) = c.bytes(v, &p, &what) {
                    s.dedupe_budget = n;
                }
            }
            "dedupe_horizon" => {
                if let Some(d) = c.duration(v, &p, &what, 1) {
                    s.dedupe_horizon = d;
                }
            }
            "initiator_unknown" => match c.choice(v, &p, &what, &["skip", "ports"]) {
                Some("skip") => s.initiator_unknown = UnknownInitiator::Skip,
                Some(_) => s.initiator_unknown = UnknownInitiator::Ports,
                None => {}
            },
            "probe_max_packets" => {
                if let Some(n) = c.number(v, &p, &what, 1, 1_000_000) {
                    s.probe_max_packets = n;
                }
            }
            "max_incidents" => {
                if let Some(n) = c.number(v, &p, &what, 1, 10_000_000) {
                    s.max_incidents = n as usize;
                }
            }
            "state_budget" => {
                if let Some(n) = c.bytes(v, &p, &what) {
                    s.state_budget = n.max(1 << 20);
                }
            }
            "promote_at" => {
                if let Some(n) = c.number(v, &p, &what, 1, 4) {
                    s.promote_at = n as u32;
                }
            }
            _ => {
                if let Some(n) = c.number(v, &p, &what, 1, u64::MAX) {
                    s.probe_max_bytes = n;
                }
            }
        }
    }
}

fn reports(c: &mut Checker<'_>, v: &Value, p: &Path, r: &mut ReportSettings) {
    let Some(m) = c.mapping(v, p, "reports") else {
        return;
    };
    for (k, v) in c.entries(
        m,
        p,
        &["top_n", "top_capacity", "max_ports"],
        &[],
        "reports",
    ) {
        let kp = p.key(k);
        let what = format!("reports.{k}");
        let max = if k == "max_ports" { 1_000_000 } else { 4096 };
        let Some(n) = c.number(v, &kp, &what, 1, max) else {
            continue;
        };
        match k {
            "top_n" => r.top_n = n as usize,
            "top_capacity" => r.top_capacity = n as usize,
            _ => r.max_ports = n as usize,
        }
    }
    if r.top_capacity < r.top_n {
        c.at_value(
            &p.key("top_capacity"),
            format!(
                "reports.top_capacity ({}) must be at least reports.top_n ({})",
                r.top_capacity, r.top_n
            ),
        );
    }
}

fn networks(c: &mut Checker<'_>, v: &Value, p: &Path) -> Networks {
    let Some(m) = c.mapping(v, p, "networks") else {
        return Networks::default();
    };
    let (mut builtin, mut extra) = (true, CidrSet::default());
    let (mut relays, mut nats) = (CidrSet::default(), CidrSet::default());
    let keys = [
        "builtin_internal",
        "internal",
        "middleboxes",
        "nat_gateways",
    ];
    for (k, v) in c.entries(m, p, &keys, &[], "networks") {
        let kp = p.key(k);
        let what = format!("networks.{k}");
        match k {
            "builtin_internal" => {
                builtin = c.boolean(v, &kp, &what).unwrap_or(true);
            }
            "internal" => extra = c.cidrs(v, &kp, &what).unwrap_or_default(),
            "middleboxes" => relays = c.cidrs(v, &kp, &what).unwrap_or_default(),
            _ => nats = c.cidrs(v, &kp, &what).unwrap_or_default(),
        }
    }
    let mut networks = Networks::new(builtin, extra);
    networks.add_middleboxes(relays.blocks().iter().copied());
    networks.add_nat_gateways(nats.blocks().iter().copied());
    networks
}

fn is_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
}

fn ports(c: &mut Checker<'_>, v: &Value, p: &Path, what: &str) -> Option<Vec<PortRange>> {
    let items = c.sequence(v, p, what)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let range = match item {
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .map(PortRange::one),
            Value::String(s) => PortRange::parse(s),
            _ => None,
        };
        match range {
            Some(r) => out.push(r),
            None => {
                ok = false;
                c.at_value(
                    &p.index(i),
                    "a port must be a number 0-65535 or a range such as \"5985-5986\"",
                );
            }
        }
    }
    if ok && out.is_empty() {
        c.at_value(p, format!("{what} must list at least one port"));
        return None;
    }
    ok.then_some(out)
}

fn protocol(c: &mut Checker<'_>, v: &Value, p: &Path) -> Option<Option<u8>> {
    let parsed = match v {
        Value::String(s) => parse_protocol(s),
        Value::Number(n) => n.as_u64().and_then(|n| u8::try_from(n).ok()).map(Some),
        _ => None,
    };
    if parsed.is_none() {
        c.at_value(
            p,
            "protocol must be tcp, udp, icmp, icmpv6, sctp, any or a protocol number 0-255",
        );
    }
    parsed
}

fn services(c: &mut Checker<'_>, v: &Value, p: &Path) -> Vec<Service> {
    let Some(m) = c.mapping(v, p, "services") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in m {
        let Some(name) = k.as_str() else {
            c.at_value(p, "service names must be strings");
            continue;
        };
        let sp = p.key(name);
        c.sink.rule = Some(name.to_owned());
        if !is_name(name) {
            c.at_key(
                &sp,
                format!("service name `{name}` must be lowercase letters, digits, `-` or `_`"),
            );
        }
        let (mut port_list, mut proto) = (None, Some(TCP));
        match v {
            Value::Sequence(_) => port_list = ports(c, v, &sp, "a service's ports"),
            _ => {
                if let Some(sm) = c.mapping(v, &sp, "a service") {
                    for (k, v) in c.entries(
                        sm,
                        &sp,
                        &["ports", "protocol", "description"],
                        &["ports"],
                        "a service",
                    ) {
                        let kp = sp.key(k);
                        match k {
                            "ports" => port_list = ports(c, v, &kp, "ports"),
                            "protocol" => proto = protocol(c, v, &kp).unwrap_or(Some(TCP)),
                            _ => {
                                c.string(v, &kp, "description");
                            }
                        }
                    }
                }
            }
        }
        if let Some(ports) = port_list {
            out.push(Service {
                name: name.to_owned(),
                ports,
                protocol: proto,
            });
        }
    }
    c.sink.rule = None;
    out
}

/// A detector's or zone rule's `services:` list: catalogue names, or ports (TCP).
fn service_refs(
    c: &mut Checker<'_>,
    v: &Value,
    p: &Path,
    catalogue: &[Service],
) -> Option<Vec<Service>> {
    let items = c.sequence(v, p, "services")?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let ip = p.index(i);
        match item {
            Value::String(name) if PortRange::parse(name).is_none() => {
                match catalogue.iter().find(|s| &s.name == name) {
                    Some(s) => out.push(s.clone()),
                    None => {
                        ok = false;
                        let hint = suggestion(name, catalogue.iter().map(|s| s.name.as_str()));
                        c.at_value(
                            &ip,
                            format!("unknown service `{name}`{hint}; define it under `services:` or give a port number"),
                        );
                    }
                }
            }
            _ => {
                let range = match item {
                    Value::Number(n) => n
                        .as_u64()
                        .and_then(|n| u16::try_from(n).ok())
                        .map(PortRange::one),
                    Value::String(s) => PortRange::parse(s),
                    _ => None,
                };
                match range {
                    Some(r) => out.push(Service {
                        name: format!("tcp/{r}"),
                        ports: vec![r],
                        protocol: Some(TCP),
                    }),
                    None => {
                        ok = false;
                        c.at_value(
                            &ip,
                            "a service is a name from `services:` or a TCP port number",
                        );
                    }
                }
            }
        }
    }
    if ok && out.is_empty() {
        c.at_value(p, "services must name at least one service");
        return None;
    }
    ok.then_some(out)
}

fn zones(c: &mut Checker<'_>, v: &Value, p: &Path, catalogue: &[Service]) -> Zones {
    let Some(items) = c.sequence(v, p, "zones") else {
        return Zones::default();
    };
    // Names first, so rules can refer to zones defined later.
    let mut names: Vec<Option<&str>> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let name = item.get("name").and_then(Value::as_str);
        if let Some(n) = name {
            let np = p.index(i).key("name");
            if RESERVED_ZONE_NAMES.contains(&n) {
                c.at_value(
                    &np,
                    format!("`{n}` is a reserved zone name (internet, unzoned, any)"),
                );
            } else if !is_name(n) {
                c.at_value(
                    &np,
                    format!("zone name `{n}` must be lowercase letters, digits, `-` or `_`"),
                );
            } else if names.contains(&Some(n)) {
                c.at_value(&np, format!("duplicate zone name `{n}`"));
            }
        }
        names.push(name);
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let zp = p.index(i);
        c.sink.rule = names[i].map(str::to_owned);
        let Some(m) = c.mapping(item, &zp, "a zone") else {
            continue;
        };
        let keys = [
            "name",
            "description",
            "cidrs",
            "subnets",
            "vpcs",
            "accept_from",
        ];
        let mut zone = Zone {
            name: names[i].unwrap_or_default().to_owned(),
            cidrs: CidrSet::default(),
            subnets: Vec::new(),
            vpcs: Vec::new(),
            accept_from: None,
        };
        for (k, v) in c.entries(m, &zp, &keys, &["name"], "a zone") {
            let kp = zp.key(k);
            match k {
                "name" => {
                    c.string(v, &kp, "a zone name");
                }
                "description" => {
                    c.string(v, &kp, "description");
                }
                "cidrs" => zone.cidrs = c.cidrs(v, &kp, "cidrs").unwrap_or_default(),
                "subnets" => zone.subnets = c.strings(v, &kp, "subnets").unwrap_or_default(),
                "vpcs" => zone.vpcs = c.strings(v, &kp, "vpcs").unwrap_or_default(),
                _ => zone.accept_from = zone_rules(c, v, &kp, &names, catalogue),
            }
        }
        if zone.cidrs.is_empty() && zone.subnets.is_empty() && zone.vpcs.is_empty() {
            c.at_key(
                &zp,
                "a zone needs at least one of `cidrs`, `subnets` or `vpcs`",
            );
        }
        out.push(zone);
    }
    c.sink.rule = None;
    Zones::new(out)
}

fn zone_rules(
    c: &mut Checker<'_>,
    v: &Value,
    p: &Path,
    names: &[Option<&str>],
    catalogue: &[Service],
) -> Option<Vec<ZoneRule>> {
    let items = c.sequence(v, p, "accept_from")?;
    let mut rules = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let rp = p.index(i);
        let Some(m) = c.mapping(item, &rp, "an accept_from rule") else {
            continue;
        };
        let (mut from, mut port_list, mut proto, mut svc) = (None, None, None, None);
        for (k, v) in c.entries(
            m,
            &rp,
            &["from", "ports", "protocol", "services"],
            &["from"],
            "an accept_from rule",
        ) {
            let kp = rp.key(k);
            match k {
                "from" => {
                    let Some(name) = c.string(v, &kp, "from") else {
                        continue;
                    };
                    from = match name {
                        "internet" => Some(ZoneRef::Internet),
                        "unzoned" => Some(ZoneRef::Unzoned),
                        "any" => Some(ZoneRef::Any),
                        n => match names.iter().position(|z| *z == Some(n)) {
                            Some(z) => Some(ZoneRef::Zone(z as u16)),
                            None => {
                                let known =
                                    names.iter().flatten().copied().chain(RESERVED_ZONE_NAMES);
                                let hint = suggestion(n, known);
                                c.at_value(&kp, format!("unknown zone `{n}`{hint}"));
                                None
                            }
                        },
                    };
                }
                "ports" => port_list = ports(c, v, &kp, "ports"),
                "protocol" => proto = protocol(c, v, &kp),
                _ => svc = service_refs(c, v, &kp, catalogue),
            }
        }
        let Some(from) = from else {
            continue;
        };
        let protocol = proto.unwrap_or(None);
        if let Some(svc) = svc {
            for s in svc {
                rules.push(ZoneRule {
                    from,
                    ports: s.ports,
                    protocol: s.protocol,
                });
            }
            if let Some(ports) = port_list {
                rules.push(ZoneRule {
                    from,
                    ports,
                    protocol,
                });
            }
        } else {
            rules.push(ZoneRule {
                from,
                ports: port_list.unwrap_or_default(),
                protocol,
            });
        }
    }
    Some(rules)
}

fn detectors(c: &mut Checker<'_>, v: &Value, p: &Path, pack: &RulePack) -> Vec<DetectorSpec> {
    let Some(items) = c.sequence(v, p, "detectors") else {
        return Vec::new();
    };
    let mut out: Vec<DetectorSpec> = Vec::new();
    let mut ids: Vec<(String, usize)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let dp = p.index(i);
        c.sink.rule = item.get("id").and_then(Value::as_str).map(str::to_owned);
        if let Some(id) = item.get("id").and_then(Value::as_str) {
            if let Some((_, first)) = ids.iter().find(|(x, _)| x == id) {
                c.at_value(
                    &dp.key("id"),
                    format!("duplicate detector id `{id}` (first at detectors[{first}])"),
                );
            }
            ids.push((id.to_owned(), i));
        }
        if let Some(d) = detector(c, item, &dp, pack) {
            out.push(d);
        }
    }
    c.sink.rule = None;
    out
}

fn detector(c: &mut Checker<'_>, v: &Value, p: &Path, pack: &RulePack) -> Option<DetectorSpec> {
    let m = c.mapping(v, p, "a detector")?;
    let kind_text = m.get("detector").and_then(Value::as_str);
    let kind = kind_text.and_then(|k| KIND_KEYS.iter().find(|(name, _, _)| *name == k));
    // An unknown kind: accept every kind's keys, so the one real error is not buried.
    let mut allowed: Vec<&str> = COMMON_KEYS.to_vec();
    let mut required: Vec<&str> = vec!["id", "detector", "severity"];
    match kind {
        Some((_, opt, req)) => {
            allowed.extend_from_slice(opt);
            allowed.extend_from_slice(req);
            required.extend_from_slice(req);
        }
        None => {
            for (_, opt, req) in KIND_KEYS {
                allowed.extend_from_slice(opt);
                allowed.extend_from_slice(req);
            }
        }
    }
    let entries = c.entries(m, p, &allowed, &required, "a detector");
    let mut spec = DetectorSpec {
        id: String::new(),
        severity: Severity::Medium,
        enabled: true,
        description: None,
        window: 300,
        allow_sources: CidrSet::default(),
        allow_destinations: CidrSet::default(),
        max_keys: pack.settings.max_keys,
        params: Params::TrustZones,
    };
    let mut ok = true;
    for (k, v) in &entries {
        let kp = p.key(k);
        let good = match *k {
            "id" => match c.string(v, &kp, "id") {
                Some(id) if is_name(id) => {
                    spec.id = id.to_owned();
                    true
                }
                Some(id) => {
                    c.at_value(
                        &kp,
                        format!("id `{id}` must be lowercase letters, digits, `-` or `_`"),
                    );
                    false
                }
                None => false,
            },
            "detector" => {
                if let Some(text) = c.string(v, &kp, "detector")
                    && kind.is_none()
                {
                    let hint = suggestion(text, DETECTOR_KINDS);
                    c.at_value(
                        &kp,
                        format!(
                            "unknown detector `{text}`{hint}; known: {}",
                            DETECTOR_KINDS.join(", ")
                        ),
                    );
                }
                kind.is_some()
            }
            "severity" => match c.choice(v, &kp, "severity", SEVERITIES) {
                Some(s) => {
                    spec.severity = Severity::parse(s).expect("listed");
                    true
                }
                None => false,
            },
            "enabled" => c
                .boolean(v, &kp, "enabled")
                .map(|b| spec.enabled = b)
                .is_some(),
            "description" => c
                .string(v, &kp, "description")
                .map(|d| spec.description = Some(d.to_owned()))
                .is_some(),
            "window" => c
                .duration(v, &kp, "window", 1)
                .map(|w| spec.window = w)
                .is_some(),
            "allow_sources" => c
                .cidrs(v, &kp, "allow_sources")
                .map(|s| spec.allow_sources = s)
                .is_some(),
            "allow_destinations" => c
                .cidrs(v, &kp, "allow_destinations")
                .map(|s| spec.allow_destinations = s)
                .is_some(),
            "max_keys" => c
                .number(v, &kp, "max_keys", 1, 10_000_000)
                .map(|n| spec.max_keys = n as usize)
                .is_some(),
            _ => true, // kind-specific, read below
        };
        ok &= good;
    }
    let (kind_name, _, _) = kind?;
    let find = |key: &str| entries.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let num = |c: &mut Checker<'_>, key: &str, default: u64| -> Option<u64> {
        match find(key) {
            Some(v) => c.number(v, &p.key(key), key, 1, u64::MAX),
            None => Some(default),
        }
    };
    let flag = |c: &mut Checker<'_>, key: &str, default: bool| -> Option<bool> {
        match find(key) {
            Some(v) => c.boolean(v, &p.key(key), key),
            None => Some(default),
        }
    };
    let scope = |c: &mut Checker<'_>| -> Option<SourceScope> {
        match find("sources") {
            Some(v) => c
                .choice(
                    v,
                    &p.key("sources"),
                    "sources",
                    &["any", "internal", "external"],
                )
                .map(|s| match s {
                    "internal" => SourceScope::Internal,
                    "external" => SourceScope::External,
                    _ => SourceScope::Any,
                }),
            None => Some(SourceScope::Any),
        }
    };
    let probing = |c: &mut Checker<'_>| -> Option<Probing> {
        let mut out = Probing::default();
        if let Some(v) = find("min_probe_share") {
            out.min_probe_share =
                c.number(v, &p.key("min_probe_share"), "min_probe_share", 1, 100)?;
        }
        if let Some(v) = find("escalate_accepted") {
            out.escalate_accepted = c.number(
                v,
                &p.key("escalate_accepted"),
                "escalate_accepted",
                0,
                1_000_000,
            )?;
        }
        if let Some(v) = find("escalate_ignore") {
            out.escalate_ignore = ServiceSet::new(service_refs(
                c,
                v,
                &p.key("escalate_ignore"),
                &pack.services,
            )?);
        }
        Some(out)
    };
    let svc = |c: &mut Checker<'_>| -> Option<ServiceSet> {
        let v = find("services")?;
        service_refs(c, v, &p.key("services"), &pack.services).map(ServiceSet::new)
    };
    let params = match *kind_name {
        "admin_port_exposure" => {
            let services = svc(c);
            let min_sources = num(c, "min_sources", 1);
            Params::AdminPortExposure {
                services: services?,
                min_sources: min_sources?,
            }
        }
        "port_scan" => {
            let min_ports = num(c, "min_ports", 0);
            let probes_only = flag(c, "probes_only", true);
            let sources = scope(c);
            let probing = probing(c);
            Params::PortScan {
                min_ports: min_ports?,
                probes_only: probes_only?,
                sources: sources?,
                probing: probing?,
            }
        }
        "host_sweep" => {
            let min_hosts = num(c, "min_hosts", 0);
            let probes_only = flag(c, "probes_only", true);
            let sources = scope(c);
            let probing = probing(c);
            Params::HostSweep {
                min_hosts: min_hosts?,
                probes_only: probes_only?,
                sources: sources?,
                probing: probing?,
            }
        }
        "exfiltration" => {
            let min_bytes =
                find("min_bytes").and_then(|v| c.bytes(v, &p.key("min_bytes"), "min_bytes"));
            let exclude = flag(c, "exclude_aws_services", true);
            Params::Exfiltration {
                min_bytes: min_bytes?,
                exclude_aws_services: exclude?,
            }
        }
        "lateral_movement" => {
            let services = svc(c);
            let min_hosts = num(c, "min_hosts", 0);
            let include_rejected = flag(c, "include_rejected", true);
            Params::LateralMovement {
                services: services?,
                min_hosts: min_hosts?,
                include_rejected: include_rejected?,
            }
        }
        "trust_zones" => Params::TrustZones,
        "insecure_protocol" => Params::InsecureProtocol { services: svc(c)? },
        "reject_burst" => {
            let min_rejects = num(c, "min_rejects", 0);
            let sources = scope(c);
            Params::RejectBurst {
                min_rejects: min_rejects?,
                sources: sources?,
            }
        }
        _ => {
            let status = find("status").and_then(|v| {
                c.choice(v, &p.key("status"), "status", &["nodata", "skipdata"])
                    .map(|s| {
                        if s == "nodata" {
                            flowlog::LogStatus::NoData
                        } else {
                            flowlog::LogStatus::SkipData
                        }
                    })
            });
            let min_records = num(c, "min_records", 1);
            let min_coverage = match find("min_coverage") {
                Some(v) => c.number(v, &p.key("min_coverage"), "min_coverage", 1, 100),
                None => Some(0),
            };
            Params::LogHealth {
                status: status?,
                min_records: min_records?,
                min_coverage: min_coverage?,
            }
        }
    };
    spec.params = params;
    ok.then_some(spec)
}
