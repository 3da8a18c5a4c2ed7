//! Exposures one source found on many hosts are one incident.
//!
//! An admin-port exposure is grouped per server (`incident::key_of`): each exposed host is
//! its own fix, and its row lists the clients that reached it. But one scanner reaching SSH
//! on 50 hosts of a subnet gave 50 high rows of one sentence each (the probe of session 13);
//! the team acts on one thing, the security rule that let the scanner in. So exposures of
//! one rule, protocol, port and service whose only client (exactly one) is the same source
//! are merged into one incident about that source: its targets are the hosts, its counts
//! the sums, its windows the most any member had, its evidence the smallest pointers of
//! all. A host any other client reached keeps its own row, and so does one whose records
//! carried more than a handshake (over `probe_max_bytes` a record on average): a host the
//! scanner logged into and pulled 480 MiB from read as one more SYN-ACK in the merged row.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::incident::{Incident, Item, Set, Subject, fnv1a};
use crate::services::protocol_name;

/// What merged exposures share: rule, protocol, service, ports and their one source.
type GroupKey = (String, Option<u8>, Option<String>, Vec<Item>, IpAddr);

/// Merges, in place, the exposures of [`Incident`]s that share one source (see the module
/// docs); `max_evidence` bounds a merged incident's evidence; exposures with more than
/// `probe_max_bytes` a record stay on their own.
pub(crate) fn merge_exposures(out: &mut Vec<Incident>, max_evidence: usize, probe_max_bytes: u64) {
    let mut groups: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
    for (i, inc) in out.iter().enumerate() {
        let handshakes_only = inc.bytes <= inc.flows.saturating_mul(probe_max_bytes);
        if let Some(source) = only_source(inc).filter(|_| handshakes_only) {
            let key = (
                inc.detector.clone(),
                inc.protocol,
                inc.service.clone(),
                inc.ports.sample.clone(),
                source,
            );
            groups.entry(key).or_default().push(i);
        }
    }
    let mut gone = Vec::new();
    let mut merged = Vec::new();
    for ((.., source), members) in groups {
        if members.len() < 2 {
            continue;
        }
        merged.push(merge(out, &members, source, max_evidence));
        gone.extend(members);
    }
    gone.sort_unstable();
    for i in gone.into_iter().rev() {
        out.remove(i);
    }
    out.extend(merged);
}

/// The one client of an exposure of one server (exactly counted), if that is what it is.
fn only_source(inc: &Incident) -> Option<IpAddr> {
    if inc.kind != "admin_port_exposure" || !matches!(inc.subject, Subject::Server { .. }) {
        return None;
    }
    match (
        inc.sources.exact,
        inc.sources.count,
        inc.sources.sample.as_slice(),
    ) {
        (true, 1, [Item::Ip(ip)]) => Some(*ip),
        _ => None,
    }
}

fn merge(out: &[Incident], members: &[usize], source: IpAddr, max_evidence: usize) -> Incident {
    let first = &out[members[0]];
    let mut m = first.clone();
    m.subject = Subject::Source { ip: source };
    m.targets = Set::default();
    m.id = format!(
        "{:016x}",
        fnv1a(
            &members
                .iter()
                .map(|&i| out[i].id.as_str())
                .collect::<Vec<_>>()
                .join("+")
        )
    );
    let (mut flows, mut packets, mut bytes, mut findings) = (0u64, 0u64, 0u64, 0u32);
    let mut evidence = Vec::new();
    for &i in members {
        let inc = &out[i];
        m.targets.merge(&inc.targets);
        m.severity = m.severity.max(inc.severity);
        m.windows = m.windows.max(inc.windows);
        findings = findings.saturating_add(inc.findings);
        flows = flows.saturating_add(inc.flows);
        packets = packets.saturating_add(inc.packets);
        bytes = bytes.saturating_add(inc.bytes);
        if inc.first_seen < m.first_seen {
            (m.first_seen, m.first_seen_utc) = (inc.first_seen, inc.first_seen_utc.clone());
        }
        if inc.last_seen > m.last_seen {
            (m.last_seen, m.last_seen_utc) = (inc.last_seen, inc.last_seen_utc.clone());
        }
        for d in &inc.decided_by {
            if !m.decided_by.contains(d) {
                m.decided_by.push(d.clone());
            }
        }
        m.incomplete |= inc.incomplete;
        evidence.extend(inc.evidence.iter().copied());
    }
    // Each member is another server (its incident's key): as many hosts as members, however
    // few of them the sample keeps.
    m.targets.count = members.len() as u64;
    m.targets.exact = true;
    (m.targets.estimate, m.targets.largest_window) = (false, false);
    evidence.sort_unstable();
    evidence.dedup();
    evidence.truncate(max_evidence);
    (m.flows, m.packets, m.bytes, m.findings, m.evidence) =
        (flows, packets, bytes, findings, evidence);
    let service = m.service.clone().unwrap_or_else(|| "admin port".to_owned());
    let hosts = m.targets.count_text(|n| n.to_string());
    m.title = format!("{service} reachable from the internet on {hosts} hosts");
    let port = m
        .ports
        .sample
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    m.summary = format!(
        "{service} ({}/{port}) accepted from 1 external source ({source}) on {hosts} hosts; \
         in all: {} records",
        protocol_name(m.protocol.unwrap_or(0)),
        m.flows
    );
    m
}
