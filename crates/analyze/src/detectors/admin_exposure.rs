//! `admin_port_exposure`: administrative and database services (the rule's `services`)
//! ACCEPTed on connections a public client opened to one of our (or private) servers. Who
//! opened the connection is the record's initiator (tcp-flags, flow-direction, pkt
//! addresses, then ports); a reply from an internet server to an ephemeral port that happens
//! to be 5432 is the other way round and not counted. One finding per (server, protocol,
//! service port) and window, counting distinct public clients (exact up to 32, then
//! HyperLogLog).
//!
//! A relay's interface (a NAT gateway: configured, discovered or learned from inner legs) has
//! no security group and logs the internet's unsolicited SYNs as ACCEPT before dropping
//! them, so a server that is a relay is only exposed when it answered (a SYN-ACK or data).
//! So is a server whose own interface the log marks requester-managed (`instance-id` `-`:
//! a NAT gateway that relayed nothing in the run is never learned, and gave one high
//! finding per admin port its scanners tried), and one whose interface no record proves an
//! instance's: in a log without `instance-id` (the v2 default format) a NAT gateway's public
//! address scanned by the internet gave nine high exposures on every run. An interface a
//! record names an instance for (`instance-id` set) is exposed by an accepted SYN alone: its
//! security group let it in; so is a server a relay forwarded the SYN to (an inner leg: a
//! load balancer's listener).
//!
//! Ports of 1024 and up are where NATs and SNAT'ing hosts open their own connections, so
//! there the port number does not say who listens: in a log with `tcp-flags` such an
//! exposure needs a record whose flags decided its initiator somewhere in the run (a
//! connection seen only after its first interval is not raised; below 1024 it is), and on a
//! NAT gateway (declared or discovered, or learned and requester-managed), which listens on
//! nothing, a SYN-ACK sent from the port (an answer of data is not enough: the data may be a
//! translated flow's).

use super::{
    CloseCx, Detector, DetectorStats, Rule, Shared, Tally, approx, conn, set_hosts, set_port,
};
use crate::addr::Addr;
use crate::addr::Class;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::initiator::DecidedBy;
use crate::middlebox::{Leg, NAT_FIRST_PORT};
use crate::services::{ServiceSet, TCP, protocol_name};
use crate::sketch::{Distinct, FastMap, fast_map};
use crate::window::Windowed;

#[derive(Default)]
struct State {
    tally: Tally,
    sources: Distinct<Addr>,
    /// The server answered (a SYN-ACK or data from it, or a client record that carried
    /// data): more than an accepted SYN.
    answered: bool,
    /// A record logged on the server's own interface said it is requester-managed.
    managed: bool,
    /// A record logged on the server's own interface named its instance.
    instance: bool,
    /// A TCP record had `tcp-flags` (the log has the field).
    flags_seen: bool,
    /// The server sent a SYN-ACK from the port.
    synack: bool,
}

pub struct AdminExposure {
    rule: Rule,
    services: ServiceSet,
    min_sources: u64,
    state: Windowed<(Addr, u8, u16), State>,
    /// Exposures on a port of 1024 or more whose opener some record's flags showed in the
    /// run (this window, or an earlier one for a connection seen in later ones), at most
    /// [`OPENED_CAP`]: past that every such exposure is raised as if opened.
    opened: FastMap<(Addr, u8, u16), ()>,
    findings: u64,
}

/// Most exposures [`AdminExposure::opened`] remembers.
const OPENED_CAP: usize = 65_536;

impl AdminExposure {
    pub fn new(rule: Rule, services: ServiceSet, min_sources: u64) -> Self {
        let state = rule.windowed(64);
        AdminExposure {
            rule,
            services,
            min_sources,
            state,
            opened: fast_map(),
            findings: 0,
        }
    }
}

impl Detector for AdminExposure {
    #[inline]
    fn observe(&mut self, f: &Flow, origin: Origin, _shared: &mut Shared) {
        let Some(t) = f.time else {
            return;
        };
        if !f.accepted() {
            return;
        }
        let Some(c) = conn(f, self.rule.unknown) else {
            return;
        };
        if c.client_class != Class::Public
            || !c.server_class.internal()
            || !self.services.contains(f.protocol, c.port)
            || self.rule.exempt(c.client, c.server)
        {
            return;
        }
        let key = (c.server, c.proto, c.port);
        if let Some((_, s)) = self.state.slot(t, key, State::default) {
            s.tally.add_conn(f, &c, origin, self.rule.max_evidence);
            s.sources.insert(c.client);
            s.answered |= super::answered(f, &c);
            s.managed |= super::managed_server_interface(f);
            // A relay's inner leg toward our server is one it forwarded (a load balancer's
            // listener): as proven as a security group's accept.
            s.instance |= super::instance_server_interface(f) || f.leg == Leg::Inner;
            // Its initiator decided by the flags (a SYN or SYN-ACK), not the ports alone.
            if f.decided_by == DecidedBy::TcpFlags
                && c.port >= NAT_FIRST_PORT
                && self.opened.len() < OPENED_CAP
            {
                self.opened.insert(key, ());
            }
            s.flags_seen |= f.protocol == Some(TCP) && f.flags.is_some();
            s.synack |= !c.from_client && f.flags.is_some_and(|fl| fl & 0x12 == 0x12);
        }
    }

    fn next_close(&self) -> Option<u64> {
        self.state.next_close()
    }

    fn close(&mut self, watermark: u64, cx: &CloseCx<'_>, out: &mut Vec<Finding>) {
        let (rule, services, min) = (&self.rule, &self.services, self.min_sources);
        let opened = &self.opened;
        let all_opened = opened.len() >= OPENED_CAP;
        let mut made = 0;
        self.state.close(watermark, |start, map| {
            for ((dst, proto, port), s) in map {
                let (n, exact) = super::at_most_records(s.tally.flows, s.sources.count());
                let unproven = s.managed || !s.instance || cx.relays.is_relay(dst);
                // NATs and SNAT'ing hosts (an EKS node for its pods) open connections from
                // ports 1024 and up, so there the port number alone does not say who listens.
                let high = port >= NAT_FIRST_PORT;
                // In a log with tcp-flags a connection's first interval shows its opener: an
                // exposure no record's flags decided in the run (this window, or an earlier
                // one: `opened`) was seen only in later intervals of connections opened
                // before the records begin, where the port may as well be a source port (an
                // EKS node's connection from 10250 to an MQTT broker's 8883 was "kubelet
                // reachable from the internet").
                let unopened = high
                    && s.flags_seen
                    && !all_opened
                    && !opened.contains_key(&(dst, proto, port));
                // A NAT gateway accepts no connection (it logs the internet's SYNs as ACCEPT
                // and drops them): on one only a SYN-ACK from the port proves a listener (a
                // translated VoIP flow from 11211 was "memcached exposed"; a scanner's SYN to
                // 5432 beside a translated flow from 5432, "postgres exposed"). A NAT
                // instance may forward a port, so it is not one of these.
                let nat_gateway =
                    cx.relays.is_nat_gateway(dst) || (s.managed && cx.relays.fronts_internet(dst));
                let translated = high && nat_gateway && !s.synack;
                if n < min || (!s.answered && unproven) || unopened || translated {
                    continue;
                }
                let protocol = (proto != 0).then_some(proto);
                let service = services.name_of(protocol, port).unwrap_or("admin port");
                let first = s.sources.sample().first().copied();
                let mut f = rule.finding(start, &s.tally, first, Some(dst));
                set_port(&mut f, proto, port);
                f.service = Some(service.to_owned());
                set_hosts(&mut f, s.sources.sample(), (n, exact));
                f.summary = format!(
                    "{service} ({}/{port}) on {dst} accepted from {} external {}",
                    protocol_name(proto),
                    approx(n, exact),
                    if n == 1 { "source" } else { "sources" },
                );
                out.push(f);
                made += 1;
            }
        });
        self.findings += made;
    }

    fn stats(&self, _shared: &Shared) -> DetectorStats {
        self.rule.stats(&self.state, self.findings, 0)
    }
}
