//! Coverage: is a VPC, subnet or network interface logged the way a requirement says, and if
//! not, why not. One pure definition (no I/O, no AWS types, no report types) used by the planner
//! ("already covered by a flow log flowkeeper does not manage") and by `audit` (the verdict and
//! its reasons), so that the two can never disagree about what counts.
//!
//! A network interface is covered when it, its subnet or its VPC has a qualifying flow log; a
//! subnet when it or its VPC has one; a VPC only by its own.

mod index;
mod requirement;

pub use index::RegionIndex;
pub use requirement::{
    Approved, DestinationType, Requirement, location_matches, traffic_satisfies,
};

use std::collections::BTreeSet;
use std::fmt;

use crate::model::{
    AggregationInterval, ExistingFlowLog, NetworkResource, ResourceKind, TrafficType,
};

/// One requirement a flow log does not meet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unmet {
    /// `FlowLogStatus` is not `ACTIVE`.
    NotActive {
        status: Option<String>,
    },
    /// `DeliverLogsStatus` reports a failure.
    DeliveryFailed {
        status: String,
        error: Option<String>,
    },
    TrafficType {
        have: TrafficType,
        need: TrafficType,
    },
    DestinationType {
        have: DestinationType,
        approved: BTreeSet<DestinationType>,
    },
    Destination {
        have: String,
        approved: Vec<String>,
    },
    FieldsMissing {
        missing: Vec<String>,
    },
    Interval {
        have: AggregationInterval,
        max: AggregationInterval,
    },
    /// A `TrafficType` this build does not know (never taken as ALL).
    UnknownTrafficType {
        raw: String,
    },
    /// A `LogDestinationType` this build does not know (never approved).
    UnknownDestinationType {
        type_name: String,
    },
    /// A `LogFormat` not of the form `${field} ...` (never taken as having any field).
    UnreadableLogFormat {
        raw: String,
    },
}

impl Unmet {
    /// The stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Unmet::NotActive { .. } => "not-active",
            Unmet::DeliveryFailed { .. } => "delivery-failed",
            Unmet::TrafficType { .. } => "traffic-type",
            Unmet::DestinationType { .. } => "destination-type",
            Unmet::Destination { .. } => "destination-not-approved",
            Unmet::FieldsMissing { .. } => "fields-missing",
            Unmet::Interval { .. } => "aggregation-interval",
            Unmet::UnknownTrafficType { .. } => "unknown-traffic-type",
            Unmet::UnknownDestinationType { .. } => "unknown-destination-type",
            Unmet::UnreadableLogFormat { .. } => "unreadable-log-format",
        }
    }
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unmet::NotActive { status } => write!(
                f,
                "status is {}, not ACTIVE",
                status.as_deref().unwrap_or("not reported")
            ),
            Unmet::DeliveryFailed { status, error } => match error {
                Some(e) => write!(f, "delivery {status}: \"{e}\""),
                None => write!(f, "delivery {status} (AWS gave no error message)"),
            },
            Unmet::TrafficType { have, need } => write!(
                f,
                "captures {} traffic; {} is required",
                have.api_name(),
                if *need == TrafficType::All {
                    "ALL".to_string()
                } else {
                    format!("{} (or ALL)", need.api_name())
                }
            ),
            Unmet::DestinationType { have, approved } => write!(
                f,
                "delivers to {have}; approved destination types: {}",
                approved
                    .iter()
                    .map(|t| t.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Unmet::Destination { have, approved } => write!(
                f,
                "delivers to {have}, which is not an approved destination (approved: {})",
                approved.join(", ")
            ),
            Unmet::FieldsMissing { missing } => {
                write!(f, "log format lacks required fields: {}", missing.join(" "))
            }
            Unmet::Interval { have, max } => write!(
                f,
                "aggregation interval is {} s; at most {} s is required",
                have.seconds(),
                max.seconds()
            ),
            Unmet::UnknownTrafficType { raw } => write!(
                f,
                "traffic type {raw:?} is not one flowkeeper knows (ALL, ACCEPT, REJECT); it is not taken as any"
            ),
            Unmet::UnknownDestinationType { type_name } => write!(
                f,
                "destination type {type_name:?} is not one flowkeeper knows (s3, cloud-watch-logs, kinesis-data-firehose); it is not approved"
            ),
            Unmet::UnreadableLogFormat { raw } => write!(
                f,
                "log format {raw:?} is not of the form `${{field}} ${{field}} ...`; it is not taken as having any field"
            ),
        }
    }
}

/// Every requirement `fl` does not meet, each a separate value (empty = it qualifies).
pub fn qualifies(fl: &ExistingFlowLog, req: &Requirement) -> Vec<Unmet> {
    qualifies_at(fl, req, None)
}

/// [`qualifies`] for a flow log read from `home` (account, region), so that a log group there
/// is also matched and named by its full ARN.
pub fn qualifies_at(
    fl: &ExistingFlowLog,
    req: &Requirement,
    home: Option<(&str, &str)>,
) -> Vec<Unmet> {
    let mut out = Vec::new();
    if !fl.health.is_active() {
        out.push(Unmet::NotActive {
            status: fl.health.status.clone(),
        });
    }
    if fl.health.delivery_failed() {
        out.push(Unmet::DeliveryFailed {
            status: fl.health.deliver_status.clone().unwrap_or_default(),
            error: fl.health.deliver_error.clone(),
        });
    }
    let s = &fl.settings;
    if let Some(raw) = &s.unreadable.traffic_type {
        out.push(Unmet::UnknownTrafficType { raw: raw.clone() });
    } else if !traffic_satisfies(s.traffic_type, req.traffic) {
        out.push(Unmet::TrafficType {
            have: s.traffic_type,
            need: req.traffic,
        });
    }
    match DestinationType::of(&s.destination) {
        None => out.push(Unmet::UnknownDestinationType {
            type_name: s.destination.type_name().to_string(),
        }),
        Some(dtype) if !req.destination_types.contains(&dtype) => {
            out.push(Unmet::DestinationType {
                have: dtype,
                approved: req.destination_types.clone(),
            })
        }
        Some(_) => {}
    }
    let known_type = DestinationType::of(&s.destination).is_some();
    if known_type && !req.destinations.admits_destination(&s.destination, home) {
        let approved = match &req.destinations {
            Approved::Any => Vec::new(),
            Approved::Patterns(p) => p.iter().cloned().collect(),
        };
        let have = match home {
            Some((account, region)) => s.destination.full_location(account, region),
            None => s.destination.location().to_string(),
        };
        out.push(Unmet::Destination { have, approved });
    }
    if let Some(raw) = &s.unreadable.log_format {
        // Only a requirement on fields makes an unreadable format a gap.
        if !req.required_fields.is_empty() {
            out.push(Unmet::UnreadableLogFormat { raw: raw.clone() });
        }
    } else {
        let have: BTreeSet<&str> = s.log_format.fields().iter().map(String::as_str).collect();
        let missing: Vec<String> = req
            .required_fields
            .iter()
            .filter(|f| !have.contains(f.as_str()))
            .cloned()
            .collect();
        if !missing.is_empty() {
            out.push(Unmet::FieldsMissing { missing });
        }
    }
    if let Some(max) = req.max_interval
        && s.max_aggregation_interval.seconds() > max.seconds()
    {
        out.push(Unmet::Interval {
            have: s.max_aggregation_interval,
            max,
        });
    }
    out
}

/// Why a resource is not covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gap {
    /// No flow log on the resource or anything above it.
    NoFlowLog,
    /// A VPC with no qualifying flow log of its own; `covered` of its `subnets` are covered by
    /// their own. Only a VPC's own flow log covers the VPC.
    NoOwnFlowLog { covered: usize, subnets: usize },
    /// A VPC with no flow log of its own and only some of its subnets covered, or a VPC or
    /// subnet with only some interfaces covered by their own flow logs (code `no-flow-log`, like
    /// a resource with none): (covered, of) subnets and interfaces.
    Partly {
        subnets: Option<(usize, usize)>,
        interfaces: (usize, usize),
    },
    /// A candidate flow log (on `on`, the resource or an ancestor) that does not qualify.
    Unqualified {
        flow_log_id: String,
        on: String,
        unmet: Unmet,
    },
}

impl Gap {
    pub fn code(&self) -> &'static str {
        match self {
            Gap::NoFlowLog | Gap::Partly { .. } => "no-flow-log",
            Gap::NoOwnFlowLog { .. } => "no-own-flow-log",
            Gap::Unqualified { unmet, .. } => unmet.code(),
        }
    }
    pub fn flow_log_id(&self) -> Option<&str> {
        match self {
            Gap::Unqualified { flow_log_id, .. } => Some(flow_log_id),
            _ => None,
        }
    }
    /// One sentence about `resource` (the one evaluated).
    pub fn text(&self, resource: &NetworkResource) -> String {
        match self {
            Gap::NoFlowLog => match resource.kind {
                ResourceKind::Vpc => format!("no flow log on {}", resource.id),
                ResourceKind::Subnet => {
                    format!("no flow log on {} or its VPC", resource.id)
                }
                ResourceKind::NetworkInterface => {
                    format!("no flow log on {}, its subnet or its VPC", resource.id)
                }
            },
            Gap::Partly {
                subnets,
                interfaces: (ci, ni),
            } => {
                let mut s = format!("no flow log on {}: 0 of its own", resource.id);
                if let Some((cs, ns)) = subnets {
                    s.push_str(&format!("; {cs} of {ns} subnets covered"));
                }
                if *ci > 0 {
                    s.push_str(&format!("; {ci} of {ni} interfaces covered"));
                }
                s
            }
            Gap::NoOwnFlowLog { covered, subnets } => format!(
                "0 of its own; {covered} of {subnets} subnets covered (only a VPC's own flow log covers the VPC)"
            ),
            Gap::Unqualified {
                flow_log_id,
                on,
                unmet,
            } => {
                if *on == resource.id {
                    format!("{flow_log_id} (on {on}): {unmet}")
                } else {
                    format!("{flow_log_id} (on {on}, above {}): {unmet}", resource.id)
                }
            }
        }
    }
}

/// The coverage of one resource against one requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// The first qualifying flow log (the resource's own first, then its subnet's, then its VPC's).
    pub covered_by: Option<String>,
    /// Every candidate flow log considered, in that order.
    pub considered: Vec<String>,
    /// Why it is not covered (empty when covered): the union of every candidate's unmet
    /// requirements, or `NoFlowLog` / `NoOwnFlowLog` when there is no candidate.
    pub gaps: Vec<Gap>,
}

impl Coverage {
    pub fn is_covered(&self) -> bool {
        self.covered_by.is_some()
    }
}

/// Evaluates `resource` against `req` with the flow logs of its region.
pub fn evaluate(resource: &NetworkResource, index: &RegionIndex, req: &Requirement) -> Coverage {
    evaluate_with(resource, index, req, &|_| true)
}

/// [`evaluate`] counting only the flow logs `admit` accepts as candidates (the planner admits
/// only those flowkeeper does not manage).
pub fn evaluate_with(
    resource: &NetworkResource,
    index: &RegionIndex,
    req: &Requirement,
    admit: &dyn Fn(&ExistingFlowLog) -> bool,
) -> Coverage {
    let mut considered = Vec::new();
    let mut gaps = Vec::new();
    let mut covered_by = None;
    for (on, fl) in index.candidates(resource).filter(|(_, fl)| admit(fl)) {
        considered.push(fl.id.clone());
        let unmet = qualifies_at(fl, req, index.home());
        if unmet.is_empty() {
            covered_by.get_or_insert_with(|| fl.id.clone());
        } else {
            gaps.extend(unmet.into_iter().map(|unmet| Gap::Unqualified {
                flow_log_id: fl.id.clone(),
                on: on.to_string(),
                unmet,
            }));
        }
    }
    if covered_by.is_some() {
        gaps.clear();
    } else if considered.is_empty() {
        gaps.push(no_candidate_gap(resource, index, req, admit));
    }
    Coverage {
        covered_by,
        considered,
        gaps,
    }
}

/// `NoOwnFlowLog` for a VPC whose subnets are all covered; `Partly` when some subnets or
/// interfaces inside are covered; otherwise `NoFlowLog`.
fn no_candidate_gap(
    resource: &NetworkResource,
    index: &RegionIndex,
    req: &Requirement,
    admit: &dyn Fn(&ExistingFlowLog) -> bool,
) -> Gap {
    if resource.kind == ResourceKind::NetworkInterface {
        return Gap::NoFlowLog;
    }
    let inside = index.interfaces_in(&resource.id);
    let interfaces = (
        inside
            .iter()
            .filter(|i| evaluate_with(i, index, req, admit).is_covered())
            .count(),
        inside.len(),
    );
    if resource.kind == ResourceKind::Subnet {
        return if interfaces.0 > 0 {
            Gap::Partly {
                subnets: None,
                interfaces,
            }
        } else {
            Gap::NoFlowLog
        };
    }
    let subnets = index.subnets_of(&resource.id);
    let covered = subnets
        .iter()
        .filter(|s| evaluate_with(s, index, req, admit).is_covered())
        .count();
    if !subnets.is_empty() && covered == subnets.len() {
        Gap::NoOwnFlowLog {
            covered,
            subnets: subnets.len(),
        }
    } else if covered > 0 || interfaces.0 > 0 {
        Gap::Partly {
            subnets: Some((covered, subnets.len())),
            interfaces,
        }
    } else {
        Gap::NoFlowLog
    }
}

#[cfg(test)]
mod tests;

/// Every reason code coverage can give, in a stable order.
pub const REASON_CODES: &[&str] = &[
    "no-flow-log",
    "no-own-flow-log",
    "not-active",
    "delivery-failed",
    "traffic-type",
    "destination-type",
    "destination-not-approved",
    "fields-missing",
    "aggregation-interval",
    "unknown-traffic-type",
    "unknown-destination-type",
    "unreadable-log-format",
];
