//! The analysis and investigation queries for one table, rendered from `templates/athena/`
//! with every threshold, window, port set and address range taken from the [`RulePack`].
//! Detections whose SQL would not give the local engine's answer in kind (not only in
//! approximation) are left out and listed with the reason, never silently dropped.

use flowkeeper_analyze::RulePack;
use flowkeeper_analyze::rules::{self, DetectorSpec, UnknownInitiator};
use flowkeeper_analyze::services::ServiceSet;
use minijinja::{Environment, UndefinedBehavior, Value};

use super::TableSpec;
use super::sql::{self, TimeRange, Untranslatable};

/// What a query answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryKind {
    /// One enabled detector entry (its id).
    Detection(String),
    /// A report (`totals`, `top_sources`, `top_destinations`, `top_pairs`, `ports`, `timeline`).
    Report(&'static str),
    /// An investigation with no local counterpart.
    Investigation,
}

/// One rendered query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// File name stem and `--list` id (`detect-port-scan`, `report-totals`, `ssh-rdp-from-outside`).
    pub id: String,
    pub kind: QueryKind,
    pub sql: String,
}

/// Template parameters: name and value.
type Params = Vec<(&'static str, Value)>;

/// Detector ids left out, with the reason.
pub type Skipped = Vec<(String, String)>;

/// The queries, and the enabled detectors left out with the reason.
#[derive(Clone, Debug, Default)]
pub struct Rendered {
    pub queries: Vec<Query>,
    pub skipped: Skipped,
}

/// Seconds per timeline bucket in SQL (the local timeline's first bucket length; it doubles
/// buckets beyond 512, which the row decoder can do on these).
pub const TIMELINE_BUCKET_SECONDS: u64 = 60;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "_flows.sql",
        include_str!("../../../templates/athena/_flows.sql"),
    ),
    (
        "report_totals.sql",
        include_str!("../../../templates/athena/report_totals.sql"),
    ),
    (
        "report_top_sources.sql",
        include_str!("../../../templates/athena/report_top_sources.sql"),
    ),
    (
        "report_top_destinations.sql",
        include_str!("../../../templates/athena/report_top_destinations.sql"),
    ),
    (
        "report_top_pairs.sql",
        include_str!("../../../templates/athena/report_top_pairs.sql"),
    ),
    (
        "report_ports.sql",
        include_str!("../../../templates/athena/report_ports.sql"),
    ),
    (
        "report_timeline.sql",
        include_str!("../../../templates/athena/report_timeline.sql"),
    ),
    (
        "reject_burst.sql",
        include_str!("../../../templates/athena/reject_burst.sql"),
    ),
    (
        "log_health.sql",
        include_str!("../../../templates/athena/log_health.sql"),
    ),
    (
        "port_scan.sql",
        include_str!("../../../templates/athena/port_scan.sql"),
    ),
    (
        "host_sweep.sql",
        include_str!("../../../templates/athena/host_sweep.sql"),
    ),
    (
        "admin_port_exposure.sql",
        include_str!("../../../templates/athena/admin_port_exposure.sql"),
    ),
    (
        "_conns.sql",
        include_str!("../../../templates/athena/_conns.sql"),
    ),
    (
        "insecure_protocol.sql",
        include_str!("../../../templates/athena/insecure_protocol.sql"),
    ),
    (
        "lateral_movement.sql",
        include_str!("../../../templates/athena/lateral_movement.sql"),
    ),
    (
        "exfiltration.sql",
        include_str!("../../../templates/athena/exfiltration.sql"),
    ),
    (
        "trust_zones.sql",
        include_str!("../../../templates/athena/trust_zones.sql"),
    ),
    (
        "between_zones.sql",
        include_str!("../../../templates/athena/between_zones.sql"),
    ),
    (
        "rejected_traffic.sql",
        include_str!("../../../templates/athena/rejected_traffic.sql"),
    ),
    (
        "top_talkers.sql",
        include_str!("../../../templates/athena/top_talkers.sql"),
    ),
    (
        "address_activity.sql",
        include_str!("../../../templates/athena/address_activity.sql"),
    ),
    (
        "ssh_rdp_from_outside.sql",
        include_str!("../../../templates/athena/ssh_rdp_from_outside.sql"),
    ),
];

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_keep_trailing_newline(true);
    for (name, text) in TEMPLATES {
        env.add_template(name, text)
            .unwrap_or_else(|e| panic!("templates/athena/{name} is invalid: {e}"));
    }
    env
}

/// The context every query shares: the selection and classification of `_flows.sql`.
fn base(
    pack: &RulePack,
    spec: &TableSpec,
    range: TimeRange,
    accounts: Option<&[String]>,
) -> Result<Params, Untranslatable> {
    let all_services = ServiceSet::new(pack.services.clone());
    let c = |name: &str, ty: &str| Value::from(sql::column(spec, name, ty));
    Ok(vec![
        ("table", Value::from(spec.qualified_name())),
        ("where", Value::from(sql::selection(spec, range, accounts)?)),
        ("src", Value::from(sql::address(spec, "srcaddr"))),
        ("dst", Value::from(sql::address(spec, "dstaddr"))),
        ("sport", c("srcport", "INTEGER")),
        ("dport", c("dstport", "INTEGER")),
        ("protocol", c("protocol", "INTEGER")),
        ("packets", c("packets", "BIGINT")),
        ("bytes", c("bytes", "BIGINT")),
        ("start", c("start", "BIGINT")),
        ("end", c("end", "BIGINT")),
        ("action", c("action", "VARCHAR")),
        ("log_status", c("log_status", "VARCHAR")),
        ("interface_id", c("interface_id", "VARCHAR")),
        ("tcp_flags", c("tcp_flags", "INTEGER")),
        ("flow_direction", c("flow_direction", "VARCHAR")),
        ("pkt_dst_aws_service", c("pkt_dst_aws_service", "VARCHAR")),
        ("subnet_id", c("subnet_id", "VARCHAR")),
        ("vpc_id", c("vpc_id", "VARCHAR")),
        ("traffic_path", c("traffic_path", "INTEGER")),
        ("probe_conn", Value::from(false)),
        (
            "unknown_ports",
            Value::from(pack.settings.initiator_unknown == UnknownInitiator::Ports),
        ),
        ("src_v4", Value::from(sql::v4_number("src"))),
        ("dst_v4", Value::from(sql::v4_number("dst"))),
        (
            "src_int",
            Value::from(sql::internal(&pack.networks, "src", "src_v4")?),
        ),
        (
            "dst_int",
            Value::from(sql::internal(&pack.networks, "dst", "dst_v4")?),
        ),
        (
            "probe_max_packets",
            Value::from(pack.settings.probe_max_packets),
        ),
        (
            "probe_max_bytes",
            Value::from(pack.settings.probe_max_bytes),
        ),
        ("dedupe", Value::from(pack.settings.dedupe)),
        ("initiator", Value::from(sql::initiator(&all_services))),
        ("decided", Value::from(sql::decided(&all_services))),
        ("top_n", Value::from(pack.reports.top_n)),
        ("bucket_seconds", Value::from(TIMELINE_BUCKET_SECONDS)),
    ])
}

fn render(
    env: &Environment<'_>,
    template: &str,
    common: &[(&'static str, Value)],
    extra: Params,
) -> String {
    let ctx: std::collections::BTreeMap<&str, Value> =
        common.iter().cloned().chain(extra).collect();
    let tmpl = env
        .get_template(template)
        .unwrap_or_else(|e| panic!("no template {template}: {e}"));
    tmpl.render(Value::from_serialize(&ctx))
        .unwrap_or_else(|e| panic!("templates/athena/{template} does not render: {e:#}"))
}

/// The parameters of one detector's template, or why it has none.
fn detection(pack: &RulePack, d: &DetectorSpec) -> Result<(&'static str, Params), String> {
    let exempt = |src: &str, dst: &str| {
        sql::exempt(&d.allow_sources, &d.allow_destinations, src, dst, &d.id).map_err(|e| e.0)
    };
    // What port scans and host sweeps share: probes by the connection's client.
    let probing = |probes_only: bool, sources| -> Result<Params, String> {
        Ok(vec![
            ("probes_only", Value::from(probes_only)),
            (
                "client_scope",
                Value::from(sql::scope(sources, "client_int")),
            ),
            ("exempt", Value::from(exempt("client_v4", "server_v4")?)),
            ("probe_conn", Value::from(true)),
        ])
    };
    let mut p: Params = vec![("window", Value::from(d.window))];
    let template = match &d.params {
        rules::Params::RejectBurst {
            min_rejects,
            sources,
        } => {
            p.push(("min_rejects", Value::from(*min_rejects)));
            p.push(("scope", Value::from(sql::scope(*sources, "src_int"))));
            p.push(("exempt", Value::from(exempt("src_v4", "dst_v4")?)));
            "reject_burst.sql"
        }
        rules::Params::LogHealth {
            status,
            min_records,
            min_coverage,
        } => {
            p.push(("status", Value::from(status.as_str())));
            p.push(("min_records", Value::from(*min_records)));
            let covered = rules::coverage_seconds(*min_coverage, d.window);
            p.push(("min_covered", Value::from(covered)));
            "log_health.sql"
        }
        rules::Params::PortScan {
            min_ports,
            probes_only,
            sources,
            probing: _,
        } => {
            p.push(("min_ports", Value::from(*min_ports)));
            p.extend(probing(*probes_only, *sources)?);
            "port_scan.sql"
        }
        rules::Params::HostSweep {
            min_hosts,
            probes_only,
            sources,
            probing: _,
        } => {
            p.push(("min_hosts", Value::from(*min_hosts)));
            p.extend(probing(*probes_only, *sources)?);
            "host_sweep.sql"
        }
        rules::Params::AdminPortExposure {
            services,
            min_sources,
        } => {
            p.push(("min_sources", Value::from(*min_sources)));
            p.push((
                "services",
                Value::from(sql::service_in(services, "protocol", "server_port")),
            ));
            p.push((
                "service_name",
                Value::from(sql::service_name(services, "protocol", "server_port")),
            ));
            p.push(("exempt", Value::from(exempt("client_v4", "server_v4")?)));
            "admin_port_exposure.sql"
        }
        rules::Params::InsecureProtocol { services } => {
            p.push((
                "services",
                Value::from(sql::service_in(services, "protocol", "server_port")),
            ));
            p.push((
                "service_name",
                Value::from(sql::service_name(services, "protocol", "server_port")),
            ));
            p.push(("exempt", Value::from(exempt("client_v4", "server_v4")?)));
            "insecure_protocol.sql"
        }
        rules::Params::LateralMovement {
            services,
            min_hosts,
            include_rejected,
        } => {
            p.push(("min_hosts", Value::from(*min_hosts)));
            p.push(("include_rejected", Value::from(*include_rejected)));
            p.push((
                "services",
                Value::from(sql::service_in(services, "protocol", "server_port")),
            ));
            // The local summary names single ports as TCP services.
            p.push((
                "service_name_tcp",
                Value::from(sql::service_name(services, "6", "server_port")),
            ));
            p.push(("exempt", Value::from(exempt("client_v4", "server_v4")?)));
            "lateral_movement.sql"
        }
        rules::Params::Exfiltration {
            min_bytes,
            exclude_aws_services,
        } => {
            p.push(("min_bytes", Value::from(*min_bytes)));
            p.push(("exclude_aws_services", Value::from(*exclude_aws_services)));
            let excluded: Vec<String> = flowkeeper_analyze::services::EXCLUDED_AWS_SERVICES
                .iter()
                .map(|s| format!("'{s}'"))
                .collect();
            p.push(("excluded_aws_services", Value::from(excluded.join(", "))));
            p.push(("exempt", Value::from(exempt("src_v4", "dst_v4")?)));
            "exfiltration.sql"
        }
        rules::Params::TrustZones => {
            p.extend(zone_params(&pack.zones).map_err(|e| e.0)?);
            p.push((
                "allows",
                Value::from(sql::zone_allows(
                    &pack.zones,
                    "client_zone",
                    "server_zone",
                    "protocol",
                    "server_port",
                )),
            ));
            p.push(("exempt", Value::from(exempt("src_v4", "dst_v4")?)));
            "trust_zones.sql"
        }
    };
    Ok((template, p))
}

/// The zone of each side of a record (`src_zone`, `dst_zone`); the logged interface's
/// subnet/VPC id counts for the side `flow-direction` names, as locally.
fn zone_params(zones: &flowkeeper_analyze::zones::Zones) -> Result<Params, Untranslatable> {
    Ok(vec![
        (
            "src_zone",
            Value::from(sql::zone(
                zones,
                "src_v4",
                "src_int",
                "flow_direction = 'egress'",
            )?),
        ),
        (
            "dst_zone",
            Value::from(sql::zone(
                zones,
                "dst_v4",
                "dst_int",
                "flow_direction = 'ingress'",
            )?),
        ),
    ])
}

/// `detect-<id>`.
fn detection_id(d: &DetectorSpec) -> String {
    format!("detect-{}", d.id)
}

/// The detections (enabled entries in pack order), then the reports: what `analyze --engine
/// athena` runs, in that order.
pub fn analysis_queries(
    pack: &RulePack,
    spec: &TableSpec,
    range: TimeRange,
    accounts: Option<&[String]>,
) -> Result<Rendered, Untranslatable> {
    let env = environment();
    let common = base(pack, spec, range, accounts)?;
    let mut out = Rendered::default();
    for d in pack.detectors.iter().filter(|d| d.enabled) {
        match detection(pack, d) {
            Ok((template, params)) => {
                let mut params = params;
                params.push(("id", Value::from(detection_id(d))));
                params.push((
                    "title",
                    Value::from(format!("{} ({})", d.id, d.params.kind())),
                ));
                out.queries.push(Query {
                    id: detection_id(d),
                    kind: QueryKind::Detection(d.id.clone()),
                    sql: render(&env, template, &common, params),
                });
            }
            Err(reason) => out.skipped.push((d.id.clone(), reason)),
        }
    }
    for (name, title) in REPORTS {
        let id = format!("report-{}", name.replace('_', "-"));
        out.queries.push(Query {
            sql: render(
                &env,
                &format!("report_{name}.sql"),
                &common,
                vec![
                    ("id", Value::from(id.clone())),
                    ("title", Value::from(*title)),
                ],
            ),
            id,
            kind: QueryKind::Report(name),
        });
    }
    Ok(out)
}

const REPORTS: &[(&str, &str)] = &[
    (
        "totals",
        "records, duplicates, accepted/rejected/no-action traffic, NODATA/SKIPDATA, time span",
    ),
    ("top_sources", "sources by bytes sent"),
    ("top_destinations", "destinations by bytes received"),
    ("top_pairs", "source/destination pairs by bytes"),
    ("ports", "traffic per (protocol, service port)"),
    (
        "timeline",
        "accepted and rejected flows and bytes per minute",
    ),
];

/// The investigations: top talkers, rejected traffic, SSH/RDP from outside, one address,
/// traffic between two zones.
pub fn investigation_queries(
    pack: &RulePack,
    spec: &TableSpec,
    range: TimeRange,
    accounts: Option<&[String]>,
) -> Result<Vec<Query>, Untranslatable> {
    let env = environment();
    let common = base(pack, spec, range, accounts)?;
    let named: Vec<_> = ["ssh", "rdp"]
        .iter()
        .filter_map(|n| pack.services.iter().find(|s| s.name == *n).cloned())
        .collect();
    if named.len() != 2 {
        return Err(Untranslatable(
            "services: the pack defines no `ssh` or no `rdp` service, which ssh-rdp-from-outside uses".into(),
        ));
    }
    let ssh_rdp = ServiceSet::new(named);
    let list: [(&str, &str, Params); 5] = [
        ("top-talkers", "top_talkers.sql", vec![]),
        ("rejected-traffic", "rejected_traffic.sql", vec![]),
        (
            "ssh-rdp-from-outside",
            "ssh_rdp_from_outside.sql",
            vec![
                (
                    "services",
                    Value::from(sql::service_in(&ssh_rdp, "protocol", "server_port")),
                ),
                (
                    "service_name",
                    Value::from(sql::service_name(&ssh_rdp, "protocol", "server_port")),
                ),
            ],
        ),
        ("address-activity", "address_activity.sql", vec![]),
        (
            "between-zones",
            "between_zones.sql",
            zone_params(&pack.zones)?,
        ),
    ];
    Ok(list
        .into_iter()
        .map(|(id, template, mut extra)| {
            extra.push(("id", Value::from(id)));
            extra.push(("title", Value::from(id.replace('-', " "))));
            Query {
                id: id.to_string(),
                kind: QueryKind::Investigation,
                sql: render(&env, template, &common, extra),
            }
        })
        .collect())
}
