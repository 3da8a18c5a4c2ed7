//! Rule packs: the YAML that holds every threshold, window, severity and allow-list, parsed
//! and checked into a [`RulePack`]. Loading reports *every* problem as a [`RuleError`] with
//! the rule it concerns, its path and, where known, line and column.
//!
//! Packs can be layered ([`RulePack::from_yaml_layers`]): later layers override earlier ones
//! key by key; `detectors` merge by `id` (keys of a known id replace the earlier keys, new ids
//! append), `zones` by `name` and `services` by name (whole entries replace).
//!
//! Submodules: `marks` (positions), `check` (typed reads that collect errors), `schema` (the
//! pack schema walk) and `merge` (layering).

mod check;
mod merge;
mod schema;

use std::fmt;

use crate::addr::{Cidr, CidrSet, Networks};
use crate::finding::Severity;
use crate::services::{Service, ServiceSet};
use crate::zones::Zones;

pub use check::parse_bytes;

/// One problem in a rule pack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// The layer it is in, for layered packs (the name the caller gave).
    pub source: Option<String>,
    /// The detector id, zone or service it concerns, when known.
    pub rule: Option<String>,
    /// Where in the pack (`detectors[2].min_ports`).
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RuleError {
    /// `default.yaml:12:5: detectors[2].min_ports (port-scan): must be at least 1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.source {
            write!(f, "{s}:")?;
        }
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{l}:{c}: ")?,
            (Some(l), None) => write!(f, "{l}: ")?,
            _ if self.source.is_some() => f.write_str(" ")?,
            _ => {}
        }
        write!(f, "{}", self.path)?;
        if let Some(r) = &self.rule {
            write!(f, " ({r})")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for RuleError {}

/// What tells a scan or sweep (probing) from a client using a service (serving): pack keys
/// `min_probe_share` (percent), `escalate_accepted` and `escalate_ignore` of `port_scan`
/// and `host_sweep`.
#[derive(Clone, Debug)]
pub struct Probing {
    /// Fire only when at most `100 - min_probe_share` percent of the targets served data.
    pub min_probe_share: u64,
    /// Raise the severity one level when a public client's probes reached (were accepted by,
    /// or answered by) at least this many targets (0: never).
    pub escalate_accepted: u64,
    /// Services whose ports a probe reaching does not count toward `escalate_accepted`
    /// (the pack's default: `web`, ports a public host serves to everyone by design).
    pub escalate_ignore: crate::services::ServiceSet,
}

impl Default for Probing {
    fn default() -> Probing {
        Probing {
            min_probe_share: 80,
            escalate_accepted: 3,
            escalate_ignore: crate::services::ServiceSet::default(),
        }
    }
}

/// What detectors do with a record whose initiator is unknown (`settings.initiator_unknown`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnknownInitiator {
    /// Skip it (default): never guess a service from a port alone.
    #[default]
    Skip,
    /// Treat the source as the client and the destination port as the service (the old
    /// behaviour).
    Ports,
}

/// Pack-wide settings (`settings:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// How far behind the latest record time a record may arrive and still count (seconds).
    pub allowed_lateness: u64,
    /// Evidence pointers per finding (1–16).
    pub max_evidence: usize,
    /// Live keys per detector, all open windows together (0: sized from `state_budget`).
    pub max_keys: usize,
    /// Whether double-ended flows are counted once.
    pub dedupe: bool,
    /// Flows remembered for the double-ended dedupe.
    pub dedupe_max_entries: usize,
    /// Bytes the double-ended dedupe may hold (entries × 24 bytes).
    pub dedupe_budget: u64,
    /// A flow's record from another interface is its twin unless it starts more than this
    /// many seconds after the flow was last seen (then it is a new flow reusing the 5-tuple).
    pub dedupe_horizon: u64,
    /// What detectors do with records whose initiator is unknown.
    pub initiator_unknown: UnknownInitiator,
    /// A TCP record with SYN, at most this many packets...
    pub probe_max_packets: u64,
    /// ...and at most this many bytes is a probe (a handshake that carried no data).
    pub probe_max_bytes: u64,
    /// Incidents kept per run (findings for further group keys are counted as a limit).
    pub max_incidents: usize,
    /// Bytes of detector state, all detectors together (split evenly; a rule's `max_keys`
    /// overrides its share).
    pub state_budget: u64,
    /// Records a key from an internet-sized key space needs in a window before it gets
    /// exact state (1–4; 1: at once).
    pub promote_at: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            allowed_lateness: 1200,
            max_evidence: 5,
            max_keys: 0,
            dedupe: true,
            dedupe_max_entries: 4_000_000,
            dedupe_budget: 48 << 20,
            dedupe_horizon: 600,
            initiator_unknown: UnknownInitiator::Skip,
            probe_max_packets: 3,
            probe_max_bytes: 300,
            max_incidents: 10_000,
            state_budget: 128 << 20,
            promote_at: 2,
        }
    }
}

/// Report settings (`reports:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportSettings {
    /// Entries in each top list.
    pub top_n: usize,
    /// Candidates kept behind each top-talker list (≥ `top_n`).
    pub top_capacity: usize,
    /// (protocol, port) pairs counted exactly; the rest go to `other`.
    pub max_ports: usize,
}

impl Default for ReportSettings {
    fn default() -> ReportSettings {
        ReportSettings {
            top_n: 10,
            top_capacity: 64,
            max_ports: 4096,
        }
    }
}

/// Which sources a scan, sweep or reject burst counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceScope {
    /// Every source.
    Any,
    /// Internal sources only.
    Internal,
    /// External sources only.
    External,
}

impl SourceScope {
    /// Whether a source of this class is in scope.
    #[inline]
    pub fn admits(self, src_internal: bool) -> bool {
        match self {
            SourceScope::Any => true,
            SourceScope::Internal => src_internal,
            SourceScope::External => !src_internal,
        }
    }
}

/// What a detector entry does and its kind-specific parameters.
#[derive(Clone, Debug)]
pub enum Params {
    /// Admin/database ports accepted from external sources to internal hosts.
    AdminPortExposure {
        /// The ports.
        services: ServiceSet,
        /// Distinct external sources needed.
        min_sources: u64,
    },
    /// One source probing many ports of one host.
    PortScan {
        /// Distinct ports needed.
        min_ports: u64,
        /// Count only probes (REJECT, or a data-less SYN).
        probes_only: bool,
        /// Which sources.
        sources: SourceScope,
        /// Probing vs serving thresholds.
        probing: Probing,
    },
    /// One source probing one port on many hosts.
    HostSweep {
        /// Distinct hosts needed.
        min_hosts: u64,
        /// Count only probes.
        probes_only: bool,
        /// Which sources.
        sources: SourceScope,
        /// Probing vs serving thresholds.
        probing: Probing,
    },
    /// Bytes from an internal address to one external address.
    Exfiltration {
        /// Bytes needed in a window.
        min_bytes: u64,
        /// Skip records whose `pkt-dst-aws-service` is S3 or DynamoDB
        /// ([`crate::services::EXCLUDED_AWS_SERVICES`]; never `EC2`, `AMAZON` or the others).
        exclude_aws_services: bool,
    },
    /// An internal host reaching many internal hosts on admin ports.
    LateralMovement {
        /// The ports.
        services: ServiceSet,
        /// Distinct hosts needed.
        min_hosts: u64,
        /// Count rejected attempts too.
        include_rejected: bool,
    },
    /// Accepted flows the zone policies do not allow.
    TrustZones,
    /// Insecure protocols accepted across the internet boundary.
    InsecureProtocol {
        /// The ports.
        services: ServiceSet,
    },
    /// Many rejected records from one source.
    RejectBurst {
        /// Rejected records needed.
        min_rejects: u64,
        /// Which sources.
        sources: SourceScope,
    },
    /// NODATA or SKIPDATA records per interface.
    LogHealth {
        /// The status counted.
        status: flowlog::LogStatus,
        /// Records needed.
        min_records: u64,
        /// Percent of the window the records' intervals (`end - start`, summed) must
        /// cover; 0: no such test.
        min_coverage: u64,
    },
}

/// The seconds of a `window` that `log_health` records' intervals must cover for
/// `min_coverage` percent of it (rounded up; 0 when there is no such test). The local
/// detector and the Athena query both use it.
pub fn coverage_seconds(min_coverage: u64, window: u64) -> u64 {
    min_coverage.saturating_mul(window).div_ceil(100)
}

/// The detector kinds, as packs name them.
pub const DETECTOR_KINDS: [&str; 9] = [
    "admin_port_exposure",
    "port_scan",
    "host_sweep",
    "exfiltration",
    "lateral_movement",
    "trust_zones",
    "insecure_protocol",
    "reject_burst",
    "log_health",
];

impl Params {
    /// The kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            Params::AdminPortExposure { .. } => "admin_port_exposure",
            Params::PortScan { .. } => "port_scan",
            Params::HostSweep { .. } => "host_sweep",
            Params::Exfiltration { .. } => "exfiltration",
            Params::LateralMovement { .. } => "lateral_movement",
            Params::TrustZones => "trust_zones",
            Params::InsecureProtocol { .. } => "insecure_protocol",
            Params::RejectBurst { .. } => "reject_burst",
            Params::LogHealth { .. } => "log_health",
        }
    }
}

/// One entry of `detectors:`.
#[derive(Clone, Debug)]
pub struct DetectorSpec {
    /// Unique id, reported as [`crate::Finding::detector`].
    pub id: String,
    /// Severity of its findings.
    pub severity: Severity,
    /// Whether it runs.
    pub enabled: bool,
    /// Free text.
    pub description: Option<String>,
    /// Window length in seconds.
    pub window: u64,
    /// Records from these sources are ignored.
    pub allow_sources: CidrSet,
    /// Records to these destinations are ignored.
    pub allow_destinations: CidrSet,
    /// Live keys cap (defaults to `settings.max_keys`).
    pub max_keys: usize,
    /// Kind and parameters.
    pub params: Params,
}

/// A checked rule pack.
#[derive(Clone, Debug)]
pub struct RulePack {
    /// `name:`.
    pub name: Option<String>,
    /// `settings:`.
    pub settings: Settings,
    /// `reports:`.
    pub reports: ReportSettings,
    /// Internal address classification (`networks:`).
    pub networks: Networks,
    /// The `services` catalogue.
    pub services: Vec<Service>,
    /// `zones:`.
    pub zones: Zones,
    /// `detectors:`, in pack order.
    pub detectors: Vec<DetectorSpec>,
}

/// One layer of a layered pack: a name for messages (usually the file name) and its text.
#[derive(Clone, Copy, Debug)]
pub struct PackSource<'a> {
    /// Shown in errors.
    pub name: &'a str,
    /// YAML text.
    pub text: &'a str,
}

/// The default pack's text (`policies/detections/default.yaml`), built in.
pub const DEFAULT_PACK_YAML: &str = include_str!("../../../../policies/detections/default.yaml");

impl RulePack {
    /// Parses and checks one pack. Every problem is reported.
    pub fn from_yaml(text: &str) -> Result<RulePack, Vec<RuleError>> {
        merge::load(&[(None, text)])
    }

    /// Parses, merges (see the module docs) and checks several layers, earliest first.
    pub fn from_yaml_layers(layers: &[PackSource<'_>]) -> Result<RulePack, Vec<RuleError>> {
        let named: Vec<(Option<&str>, &str)> =
            layers.iter().map(|l| (Some(l.name), l.text)).collect();
        merge::load(&named)
    }

    /// The built-in default pack.
    pub fn default_pack() -> RulePack {
        RulePack::from_yaml(DEFAULT_PACK_YAML).unwrap_or_else(|errors| {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("the built-in default pack is invalid:\n{}", text.join("\n"))
        })
    }

    /// Adds blocks that are ours (VPC IPv4 and IPv6 CIDRs from `DescribeVpcs`), on top of
    /// `networks.internal`.
    pub fn add_internal(&mut self, blocks: Vec<Cidr>) {
        self.networks.add_ours(blocks);
    }

    /// Adds relay addresses (middlebox interfaces: load balancers, gateway load balancer
    /// endpoints, transit gateway attachments), on top of `networks.middleboxes`.
    pub fn add_middleboxes(&mut self, blocks: Vec<Cidr>) {
        self.networks.add_middleboxes(blocks);
    }

    /// Adds NAT gateway addresses (relays that only carry connections opened from inside),
    /// on top of `networks.nat_gateways`.
    pub fn add_nat_gateways(&mut self, blocks: Vec<Cidr>) {
        self.networks.add_nat_gateways(blocks);
    }

    /// Adds the addresses of one discovered middlebox interface by its EC2 `InterfaceType`:
    /// `nat_gateway` (or the SDK's `natGateway`) as a NAT gateway, any other type as a relay.
    pub fn add_relay(&mut self, interface_type: &str, blocks: Vec<Cidr>) {
        match interface_type {
            "nat_gateway" | "natGateway" => self.add_nat_gateways(blocks),
            _ => self.add_middleboxes(blocks),
        }
    }

    /// The detector entry with this id.
    pub fn detector(&self, id: &str) -> Option<&DetectorSpec> {
        self.detectors.iter().find(|d| d.id == id)
    }
}
