//! The planted attacks of `--realism 2` (in the middle period of the first VPC) and their
//! ground truth: per attack the default pack's rule id, the expected severity, the subject
//! (the address the finding must name as its source: the real internal host for traffic
//! relayed by the NAT gateway, never the NAT), the actors (sources whose findings belong to
//! the attack; exfiltration sinks are not actors, so a finding naming the NAT is a false
//! one), and the window.
//! Attackers use documentation ranges (IPv4 TEST-NETs) or addresses outside the public pools.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::estate::{Role, Vpc};
use super::flow::{End, Rec2, Shape, TCP};
use super::traffic::Status;
use super::traffic_benign::{Ctx, PERIOD, ext4, ext6, tcp};

fn v4(text: &str) -> u32 {
    u32::from(text.parse::<std::net::Ipv4Addr>().expect("literal address"))
}

fn v6(text: &str) -> u128 {
    u128::from(text.parse::<std::net::Ipv6Addr>().expect("literal address"))
}

/// One ground-truth entry.
struct Truth<'a> {
    kind: &'a str,
    rule: &'a str,
    severity: &'a str,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    port: Option<u16>,
    actors: Vec<IpAddr>,
    what: &'a str,
}

impl Truth<'_> {
    fn json(&self, vpc: &Vpc, t0: u64) -> Value {
        json!({
            "kind": self.kind,
            "default_rule": self.rule,
            "expect_severity": self.severity,
            "account": vpc.account,
            "vpc": vpc.vpc,
            "subject": self.src.map(|s| s.to_string()),
            "src": self.src.map(|s| s.to_string()),
            "dst": self.dst.map(|s| s.to_string()),
            "dst_port": self.port,
            "window_contains": t0 + PERIOD / 2,
            "actors": self.actors.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            "description": self.what,
        })
    }
}

/// The planted records for the period starting at `cx.t0` of `cx.vpc`, and their truth.
pub fn planted(cx: &mut Ctx) -> (Vec<Rec2>, Vec<Value>) {
    let vpc = cx.vpc;
    let t0 = cx.t0;
    let mut out = Vec::new();
    let mut truth = Vec::new();
    let of = |r: Role| vpc.of(r);
    let (web, app, db, worker) = (of(Role::Web), of(Role::App), of(Role::Db), of(Role::Worker));
    let bastion = of(Role::Bastion)[0];
    let ip4 = |i: usize| vpc.hosts[i].ip4();
    let ip6 = |i: usize| vpc.hosts[i].ip6();

    // 1. SSH to the bastion's Elastic IP accepted from the internet.
    let attacker = ext4(v4("192.0.2.77"), 0);
    for k in 0..6 {
        let start = t0 + 10 + k * 40 + cx.rng.below(10);
        let client = End {
            port: cx.eph(),
            ..attacker
        };
        let req = (cx.rng.range(20, 60), cx.rng.range(3_000, 9_000));
        let resp = (cx.rng.range(20, 60), cx.rng.range(4_000, 20_000));
        let mut c = tcp(client, cx.v4(bastion, 22), start, 25, req, resp);
        c.server_path = 8;
        c.emit(&mut out);
    }
    truth.push(
        Truth {
            kind: "admin_port_exposure",
            rule: "admin-port-exposure",
            severity: "high",
            src: Some(attacker.ip),
            dst: Some(ip4(bastion)),
            port: Some(22),
            actors: vec![attacker.ip],
            what: "SSH to the bastion accepted from a public address",
        }
        .json(vpc, t0),
    );

    // 2. Vertical scan of the bastion: 60 ports, every SYN rejected.
    let scanner = ext4(v4("203.0.113.66"), 61_000);
    let mut ports: Vec<u16> = (1..=1024).filter(|p| *p != 22).collect();
    cx.rng.shuffle(&mut ports);
    for (k, port) in ports.iter().take(60).enumerate() {
        let mut c = tcp(
            scanner,
            cx.v4(bastion, *port),
            t0 + 20 + k as u64 * 2,
            0,
            (1, 44),
            (0, 0),
        );
        c.shape = Shape::Syn;
        c.accept = false;
        c.emit(&mut out);
    }
    truth.push(
        Truth {
            kind: "port_scan",
            rule: "port-scan",
            severity: "medium",
            src: Some(scanner.ip),
            dst: Some(ip4(bastion)),
            port: None,
            actors: vec![scanner.ip],
            what: "one source probing 60 ports of one host, all rejected",
        }
        .json(vpc, t0),
    );

    // 3. Horizontal sweep over IPv6: RDP on every dual-stack host, rejected.
    let sweeper = ext6(v6("2a0e:97c0:3e3:ab::23"), 55_555);
    for (k, h) in web.iter().chain(&worker).enumerate() {
        let mut c = tcp(
            sweeper,
            cx.v6(*h, 3389),
            t0 + 30 + k as u64 * 3,
            0,
            (1, 80),
            (0, 0),
        );
        c.shape = Shape::Syn;
        c.accept = false;
        c.emit(&mut out);
    }
    truth.push(
        Truth {
            kind: "host_sweep",
            rule: "host-sweep",
            severity: "medium",
            src: Some(sweeper.ip),
            dst: None,
            port: Some(3389),
            actors: vec![sweeper.ip],
            what: "one IPv6 source probing RDP on 24 hosts",
        }
        .json(vpc, t0),
    );

    // 4. Exfiltration over IPv6: a worker uploads about 2.2 GB through the egress-only gateway.
    let (source, sink) = (worker[3], ext6(v6("2a0e:97c0:3e3:ff::33"), 443));
    for k in 0..12 {
        let start = t0 + 10 + k * 18;
        let client = End {
            port: cx.eph(),
            ..cx.v6(source, 0)
        };
        let req = (130_000, 180_000_000 + cx.rng.below(1_000_000));
        let mut c = tcp(client, sink, start, 55, req, (20_000, 1_200_000));
        c.client_path = 8;
        c.emit(&mut out);
    }
    truth.push(
        Truth {
            kind: "exfiltration",
            rule: "exfiltration",
            severity: "high",
            src: Some(ip6(source)),
            dst: Some(sink.ip),
            port: None,
            actors: vec![ip6(source)],
            what: "about 2.2 GB from a worker to one external IPv6 address",
        }
        .json(vpc, t0),
    );

    // 5. Lateral movement: a worker opens SSH sessions to 14 internal hosts.
    let pivot = worker[7];
    for (k, v) in app.iter().take(10).chain(&db).enumerate() {
        let client = End {
            port: cx.eph(),
            ..cx.v4(pivot, 0)
        };
        let start = t0 + 40 + k as u64 * 9;
        let req = (cx.rng.range(8, 20), cx.rng.range(2_000, 6_000));
        let resp = (cx.rng.range(8, 20), cx.rng.range(2_000, 9_000));
        tcp(client, cx.v4(*v, 22), start, 6, req, resp).emit(&mut out);
    }
    truth.push(
        Truth {
            kind: "lateral_movement",
            rule: "lateral-movement",
            severity: "high",
            src: Some(ip4(pivot)),
            dst: None,
            port: None,
            actors: vec![ip4(pivot)],
            what: "an internal host reaching 14 internal hosts over SSH",
        }
        .json(vpc, t0),
    );

    // 6. Trust-zone violation: a web server reaches the database directly on 5432.
    let (from, to) = (web[3], db[0]);
    for k in 0..3 {
        let client = End {
            port: cx.eph(),
            ..cx.v4(from, 0)
        };
        tcp(
            client,
            cx.v4(to, 5432),
            t0 + 60 + k * 50,
            4,
            (12, 2_400),
            (12, 9_000),
        )
        .emit(&mut out);
    }
    truth.push(
        Truth {
            kind: "trust_zones",
            rule: "trust-zone-violation",
            severity: "high",
            src: Some(ip4(from)),
            dst: Some(ip4(to)),
            port: Some(5432),
            actors: vec![ip4(from)],
            what: "web reaching the database zone directly on 5432",
        }
        .json(vpc, t0),
    );

    // 7. Insecure protocol: telnet accepted over IPv6 from the internet to a web server.
    let telnet = ext6(v6("2a0e:97c0:3e3:ab::200"), 40_022);
    let mut c = tcp(
        telnet,
        cx.v6(web[2], 23),
        t0 + 90,
        40,
        (40, 3_000),
        (40, 9_000),
    );
    c.server_path = 8;
    c.emit(&mut out);
    truth.push(
        Truth {
            kind: "insecure_protocol",
            rule: "insecure-protocol",
            severity: "medium",
            src: Some(telnet.ip),
            dst: Some(ip6(web[2])),
            port: Some(23),
            actors: vec![telnet.ip],
            what: "telnet accepted from the internet over IPv6",
        }
        .json(vpc, t0),
    );

    // 8. Reject burst: 300 rejected SSH attempts at the bastion.
    let noisy = ext4(v4("203.0.113.200"), 0);
    for k in 0..300u64 {
        let client = End {
            port: 30_000 + k as u16,
            ..noisy
        };
        let mut c = tcp(
            client,
            cx.v4(bastion, 22),
            t0 + 5 + k * 4 / 5,
            1,
            (2, 120),
            (0, 0),
        );
        c.shape = Shape::Syn;
        c.accept = false;
        c.emit(&mut out);
    }
    truth.push(
        Truth {
            kind: "reject_burst",
            rule: "reject-burst",
            severity: "low",
            src: Some(noisy.ip),
            dst: Some(ip4(bastion)),
            port: Some(22),
            actors: vec![noisy.ip],
            what: "300 rejected SSH attempts from one source",
        }
        .json(vpc, t0),
    );

    // 9. Log health: an app server's interface reports SKIPDATA.
    let lossy = app[2];
    for k in 0..3 {
        out.push(Rec2::status(
            lossy as u16,
            Status::SkipData,
            t0 + 60 * k,
            t0 + 60 * k + 59,
        ));
    }
    truth.push(json!({
        "kind": "log_health",
        "default_rule": "log-skipdata",
        "expect_severity": "medium",
        "account": vpc.account,
        "vpc": vpc.vpc,
        "subject": vpc.hosts[lossy].id,
        "interface_id": vpc.hosts[lossy].id,
        "window_contains": t0 + PERIOD / 2,
        "actors": [],
        "description": "an interface whose flow records were dropped (SKIPDATA)",
    }));

    // 10. SSH accepted over IPv6 from the internet to a dual-stack web server.
    let intruder = ext6(v6("2a0e:97c0:3e3:ab::77"), 0);
    for k in 0..4 {
        let client = End {
            port: cx.rng.range(40_000, 60_000) as u16,
            ..intruder
        };
        let req = (cx.rng.range(30, 90), cx.rng.range(4_000, 12_000));
        let resp = (cx.rng.range(30, 90), cx.rng.range(6_000, 40_000));
        let mut c = tcp(client, cx.v6(web[5], 22), t0 + 15 + k * 60, 45, req, resp);
        c.server_path = 8;
        c.emit(&mut out);
    }
    truth.push(
        Truth {
            kind: "admin_port_exposure",
            rule: "admin-port-exposure",
            severity: "high",
            src: Some(intruder.ip),
            dst: Some(ip6(web[5])),
            port: Some(22),
            actors: vec![intruder.ip],
            what: "SSH to a web server accepted over IPv6 from the internet",
        }
        .json(vpc, t0),
    );

    // 11. Exfiltration through the NAT gateway: a database server uploads about 2.2 GB to one
    // internet address; the NAT's outer leg carries the same bytes from the NAT's address.
    let (source, sink) = (db[1], ext4(v4("185.220.101.33"), 443));
    for k in 0..12 {
        let start = t0 + 12 + k * 18;
        let client = End {
            port: cx.eph(),
            ..cx.v4(source, 0)
        };
        let req = (130_000, 180_000_000 + cx.rng.below(1_000_000));
        let mut c = tcp(client, sink, start, 55, req, (20_000, 1_200_000));
        c.nat = Some(cx.nat());
        c.emit(&mut out);
    }
    truth.push(
        Truth {
            kind: "exfiltration",
            rule: "exfiltration",
            severity: "high",
            src: Some(ip4(source)),
            dst: Some(sink.ip),
            port: None,
            actors: vec![ip4(source)],
            what: "about 2.2 GB from a database host to one internet address, through the NAT gateway",
        }
        .json(vpc, t0),
    );

    // 12. A scan with accepted probes: a worker whose security group is open to ::/0 answers
    // 80 probed ports (RST from closed ports, SYN-ACK then the scanner's RST from open ones).
    let prober = ext6(v6("2a0e:97c0:3e3:ab::99"), 47_001);
    let target = worker[9];
    let mut ports: Vec<u16> = (1..=2048).collect();
    cx.rng.shuffle(&mut ports);
    ports.truncate(78);
    ports.extend([22, 8080]);
    for (k, port) in ports.iter().enumerate() {
        let open = matches!(port, 22 | 8080);
        let resp = if open { (1, 80) } else { (1, 60) };
        let mut c = tcp(
            prober,
            cx.v6(target, *port),
            t0 + 100 + k as u64,
            0,
            (1, 80),
            resp,
        );
        c.proto = TCP;
        c.shape = if open { Shape::SynRst } else { Shape::Refused };
        c.server_path = 8;
        c.emit(&mut out);
    }
    truth.push(
        Truth {
            kind: "port_scan",
            rule: "port-scan",
            severity: "high",
            src: Some(prober.ip),
            dst: Some(ip6(target)),
            port: None,
            actors: vec![prober.ip],
            what: "one IPv6 source probing 80 ports of a host that accepts them (RST and SYN-ACK replies)",
        }
        .json(vpc, t0),
    );
    (out, truth)
}
