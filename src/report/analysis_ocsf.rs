//! analyze as OCSF: one **Detection Finding** (class 2004, category 2 Findings, OCSF 1.3.0 with
//! the `datetime` profile) per incident, as JSON lines, for SIEMs and Security Lake. Owns the
//! mapping from [`Incident`] to OCSF; decides nothing.
//!
//! Mapping: `severity_id` Informational 1 … Critical 5 from the incident's severity; `time` is
//! its last seen (ms), `start_time`/`end_time` first/last seen, `count` the windows it fired in;
//! `finding_info.uid` is the incident id (a fixed hash of detector, subject and target set, so
//! it is the same on every run over the same data), `analytic` the pack rule;
//! `evidences[0]` carries the subject as `src_endpoint` (a client) or `dst_endpoint` (a server),
//! the single target or port when there is one, and in `data.evidence_at` the record pointers
//! (`s3://bucket/key:line`); `observables` are the addresses (IP Address, 2), ports (Port, 11)
//! and every evidence pointer (Resource UID, 10); `resources` the flow log or interface of a
//! log-health incident. flowkeeper's own counts are in `unmapped.flowkeeper`.

use flowkeeper_analyze::{Incident, Item, Severity, Subject};
use serde_json::{Value, json};

use super::analysis_view::{Results, evidence};
use super::ocsf::{CATEGORY_UID, OCSF_VERSION, product, prune_nulls};
use crate::analyze::RunSummary;

pub const CLASS_UID: u32 = 2004;
/// Create (1): every run reports its findings afresh.
const ACTIVITY_ID: u32 = 1;

/// (severity_id, severity) of OCSF for a pack severity.
pub fn severity(s: Severity) -> (u32, &'static str) {
    match s {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

fn ms(secs: u64) -> u64 {
    secs.saturating_mul(1000)
}

/// The only member of a set, when it has exactly one.
fn single(set: &flowkeeper_analyze::Set) -> Option<&Item> {
    (set.exact && set.count == 1)
        .then(|| set.sample.first())
        .flatten()
}

fn endpoint(ip: Option<String>, port: Option<u16>) -> Option<Value> {
    (ip.is_some() || port.is_some()).then(|| json!({ "ip": ip, "port": port }))
}

fn ip_of(item: Option<&Item>) -> Option<String> {
    match item {
        Some(Item::Ip(ip)) => Some(ip.to_string()),
        _ => None,
    }
}

fn port_of(item: Option<&Item>) -> Option<u16> {
    match item {
        Some(Item::Port(p)) => Some(*p),
        _ => None,
    }
}

/// (src_endpoint, dst_endpoint) of the incident's evidence.
fn endpoints(i: &Incident) -> (Option<Value>, Option<Value>) {
    let port = port_of(single(&i.ports));
    match &i.subject {
        Subject::Source { ip } => (
            endpoint(Some(ip.to_string()), None),
            endpoint(ip_of(single(&i.targets)), port),
        ),
        Subject::Server { ip } => (
            endpoint(ip_of(single(&i.sources)), None),
            endpoint(Some(ip.to_string()), port),
        ),
        _ => (
            endpoint(ip_of(single(&i.sources)), None),
            endpoint(ip_of(single(&i.targets)), port),
        ),
    }
}

/// Where an evidence pointer's `name` points inside the event.
const EVIDENCE_AT: &str = "evidences[0].data.evidence_at";

fn observables(i: &Incident, pointers: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    match &i.subject {
        Subject::Source { ip } => out.push(json!({
            "name": "evidences[0].src_endpoint.ip", "type_id": 2, "type": "IP Address", "value": ip.to_string(),
        })),
        Subject::Server { ip } => out.push(json!({
            "name": "evidences[0].dst_endpoint.ip", "type_id": 2, "type": "IP Address", "value": ip.to_string(),
        })),
        _ => {}
    }
    for (name, set) in [("targets", &i.targets), ("sources", &i.sources)] {
        for item in &set.sample {
            if let Item::Ip(ip) = item {
                let value = ip.to_string();
                if !out.iter().any(|o| o["value"] == value.as_str()) {
                    out.push(json!({
                        "name": format!("unmapped.flowkeeper.{name}"), "type_id": 2, "type": "IP Address", "value": value,
                    }));
                }
            }
        }
    }
    for item in &i.ports.sample {
        if let Item::Port(p) = item {
            out.push(json!({
                "name": "unmapped.flowkeeper.ports", "type_id": 11, "type": "Port", "value": p.to_string(),
            }));
        }
    }
    for p in pointers {
        out.push(json!({ "name": EVIDENCE_AT, "type_id": 10, "type": "Resource UID", "value": p }));
    }
    out
}

fn resources(i: &Incident) -> Option<Value> {
    match &i.subject {
        Subject::FlowLog { id } => {
            Some(json!([{ "uid": id, "name": id, "type": "AwsEc2FlowLog" }]))
        }
        Subject::Interface { id } => {
            Some(json!([{ "uid": id, "name": id, "type": "AwsEc2NetworkInterface" }]))
        }
        _ => None,
    }
}

fn set_json(s: &flowkeeper_analyze::Set) -> Value {
    json!({ "count": s.count, "exact": s.exact, "sample": s.sample })
}

/// flowkeeper's own view of the incident (`unmapped.flowkeeper`).
fn unmapped(i: &Incident) -> Value {
    json!({
        "detector": i.detector,
        "subject": i.subject,
        "windows": i.windows,
        "window_findings": i.findings,
        "window_seconds": i.window_len,
        "targets": set_json(&i.targets),
        "sources": set_json(&i.sources),
        "ports": set_json(&i.ports),
        "service": i.service,
        "flows": i.flows,
        "packets": i.packets,
        "bytes": i.bytes,
        "decided_by": (!i.decided_by.is_empty()).then_some(&i.decided_by),
        "via": i.via,
        "incomplete": i.incomplete,
    })
}

/// One Detection Finding, without null members.
pub fn finding(i: &Incident, run: &RunSummary) -> Value {
    let (severity_id, severity_name) = severity(i.severity);
    let pointers = evidence(&i.evidence, run);
    let (src, dst) = endpoints(i);
    let mut event = json!({
        "activity_id": ACTIVITY_ID,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_ID,
        "type_name": "Detection Finding: Create",
        "time": ms(i.last_seen),
        "time_dt": i.last_seen_utc,
        "start_time": ms(i.first_seen),
        "start_time_dt": i.first_seen_utc,
        "end_time": ms(i.last_seen),
        "end_time_dt": i.last_seen_utc,
        "count": i.windows,
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": 1,
        "status": "New",
        "message": i.summary,
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["datetime"],
            "uid": format!("{}@{}", i.id, i.last_seen),
            "event_code": i.kind,
            "product": product("analyze"),
        },
        "finding_info": {
            "uid": i.id,
            "title": i.title,
            "desc": i.summary,
            "types": [i.kind],
            "analytic": { "uid": i.detector, "name": i.detector, "type_id": 1, "type": "Rule" },
            "first_seen_time": ms(i.first_seen),
            "first_seen_time_dt": i.first_seen_utc,
            "last_seen_time": ms(i.last_seen),
            "last_seen_time_dt": i.last_seen_utc,
            "data_sources": ["AWS VPC Flow Logs"],
        },
        "evidences": [{
            "src_endpoint": src,
            "dst_endpoint": dst,
            "connection_info": i.protocol.map(|p| json!({ "protocol_num": p })),
            "data": { "evidence_at": pointers },
        }],
        "observables": observables(i, &pointers),
        "resources": resources(i),
        "unmapped": { "flowkeeper": unmapped(i) },
    });
    prune_nulls(&mut event);
    event
}

/// One finding a line, in the incidents' order; empty when there are none.
pub fn render(r: &Results) -> String {
    let mut out = String::new();
    for i in r.incidents {
        out.push_str(&finding(i, r.run).to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::analysis_view::fixtures;

    /// OCSF 1.3.0 attributes a Detection Finding must have (base event, `metadata`,
    /// `finding`, `finding_info`), as JSON pointers.
    const REQUIRED: [&str; 11] = [
        "/activity_id",
        "/category_uid",
        "/class_uid",
        "/metadata/product",
        "/metadata/version",
        "/severity_id",
        "/time",
        "/type_uid",
        "/finding_info",
        "/finding_info/uid",
        "/finding_info/title",
    ];

    /// An evidence artifact needs at least one of these.
    const EVIDENCE_ANY_OF: [&str; 9] = [
        "actor",
        "api",
        "connection_info",
        "data",
        "dst_endpoint",
        "file",
        "process",
        "query",
        "src_endpoint",
    ];

    #[test]
    fn every_kind_maps_to_a_detection_finding_with_every_required_attribute() {
        let run = fixtures::run("s3://logs/AWSLogs/1_fl-0123_x.log.gz");
        for i in fixtures::every_kind() {
            let e = finding(&i, &run);
            for path in REQUIRED {
                assert!(
                    e.pointer(path).is_some(),
                    "{}: {path} missing in {e}",
                    i.kind
                );
            }
            assert_eq!(e["class_uid"], 2004);
            assert_eq!(e["category_uid"], 2);
            assert_eq!(e["type_uid"], 200401);
            assert_eq!(e["metadata"]["version"], "1.3.0");
            assert_eq!(e["finding_info"]["uid"], i.id.as_str());
            assert_eq!(e["finding_info"]["analytic"]["uid"], i.detector.as_str());
            assert_eq!(e["finding_info"]["types"][0], i.kind);
            assert_eq!(e["count"], 3);
            assert_eq!(e["time"], 1_793_492_100_000u64);
            let ev = e["evidences"].as_array().expect("evidences");
            assert_eq!(ev.len(), 1);
            assert!(
                EVIDENCE_ANY_OF.iter().any(|k| ev[0].get(k).is_some()),
                "{}: {ev:?}",
                i.kind
            );
            assert_eq!(
                ev[0]["data"]["evidence_at"],
                json!([
                    "s3://logs/AWSLogs/1_fl-0123_x.log.gz:52",
                    "s3://logs/AWSLogs/1_fl-0123_x.log.gz:53"
                ])
            );
            let obs = e["observables"].as_array().expect("observables");
            for o in obs {
                assert!(o["type_id"].is_u64(), "{}: {o}", i.kind);
                assert!(o["name"].is_string() && o["value"].is_string(), "{o}");
            }
            let pointers: Vec<&Value> = obs.iter().filter(|o| o["type_id"] == 10).collect();
            assert_eq!(pointers.len(), 2, "{}: {obs:?}", i.kind);
            assert!(obs.iter().any(|o| o["type_id"] == 2), "an IP observable");
            assert!(obs.iter().any(|o| o["type_id"] == 11), "a port observable");
            // OCSF leaves absent attributes out rather than null.
            assert!(!e.to_string().contains("null"), "{e}");
        }
    }

    #[test]
    fn the_subject_is_the_client_or_the_server_endpoint() {
        let run = fixtures::run("flows.log");
        let all = fixtures::every_kind();
        let by = |kind: &str| all.iter().find(|i| i.kind == kind).unwrap();
        let scan = finding(by("port_scan"), &run);
        assert_eq!(scan["evidences"][0]["src_endpoint"]["ip"], "203.0.113.5");
        assert_eq!(scan["evidences"][0]["dst_endpoint"]["ip"], "10.0.2.10");
        assert_eq!(scan["evidences"][0]["dst_endpoint"]["port"], 22);
        let exposed = finding(by("admin_port_exposure"), &run);
        assert_eq!(
            exposed["evidences"][0]["dst_endpoint"]["ip"],
            "2600:1f18:1:2::10"
        );
        assert_eq!(exposed["evidences"][0]["src_endpoint"]["ip"], "203.0.113.5");
        assert_eq!(exposed["severity_id"], 4);
        let zones = finding(by("trust_zones"), &run);
        assert_eq!(zones["severity_id"], 5);
        let health: Vec<Value> = all
            .iter()
            .filter(|i| i.kind == "log_health")
            .map(|i| finding(i, &run))
            .collect();
        assert_eq!(health[0]["resources"][0]["uid"], "fl-0123");
        assert_eq!(health[1]["resources"][0]["type"], "AwsEc2NetworkInterface");
        assert_eq!(health[0]["severity_id"], 1);
    }

    #[test]
    fn severities_map_to_ocsf_ids() {
        let ids: Vec<u32> = Severity::ALL.iter().map(|s| severity(*s).0).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5]);
    }
}
