//! What the generator writes: [`Rec`] (one flow-log record), [`Conn`] (a connection, logged at
//! each of its ends that has an interface of ours: request and reply, egress and ingress),
//! the benign traffic mix of one 5-minute object, and the planted attacks with their ground
//! truth.

use serde_json::{Value, json};

use super::rng::Rng;
use super::topology::{Account, Role, aws_service_ip, public_pool};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    NoData,
    SkipData,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Ingress,
    Egress,
}

/// One record, as logged by interface `eni` of its account.
#[derive(Clone, Debug)]
pub struct Rec {
    pub eni: u16,
    pub src: u32,
    pub dst: u32,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    pub packets: u64,
    pub bytes: u64,
    pub start: u64,
    pub end: u64,
    pub accept: bool,
    pub status: Status,
    pub flags: u16,
    pub dir: Dir,
    pub src_svc: Option<&'static str>,
    pub dst_svc: Option<&'static str>,
    /// traffic-path for egress records (0: none).
    pub path: u8,
}

impl Rec {
    /// A NODATA/SKIPDATA record of an interface.
    pub fn status(eni: u16, status: Status, start: u64, end: u64) -> Rec {
        Rec {
            eni,
            src: 0,
            dst: 0,
            sport: 0,
            dport: 0,
            proto: 0,
            packets: 0,
            bytes: 0,
            start,
            end,
            accept: false,
            status,
            flags: 0,
            dir: Dir::Ingress,
            src_svc: None,
            dst_svc: None,
            path: 0,
        }
    }
}

/// A connection between a client and a server; each end with an interface logs it.
#[derive(Clone, Debug)]
pub struct Conn {
    pub client: u32,
    pub client_eni: Option<u16>,
    pub server: u32,
    pub server_eni: Option<u16>,
    pub cport: u16,
    pub port: u16,
    pub proto: u8,
    pub start: u64,
    pub end: u64,
    pub req: (u64, u64),
    pub resp: Option<(u64, u64)>,
    pub accept: bool,
    pub req_flags: u16,
    pub server_svc: Option<&'static str>,
}

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;

fn is_internal(ip: u32) -> bool {
    ip >> 24 == 10 || ip >> 16 == (169 << 8 | 254)
}

fn path_to(dst: u32, svc: Option<&str>) -> u8 {
    if svc.is_some() {
        7
    } else if is_internal(dst) {
        1
    } else {
        8
    }
}

impl Conn {
    /// Appends its records: request at the client's interface (egress) and the server's
    /// (ingress); the reply at the server's (egress) and the client's (ingress). A rejected
    /// connection is logged by the server's interface only.
    pub fn emit(&self, out: &mut Vec<Rec>) {
        let tcp = self.proto == TCP;
        let req = |eni: u16, dir: Dir| Rec {
            eni,
            src: self.client,
            dst: self.server,
            sport: self.cport,
            dport: self.port,
            proto: self.proto,
            packets: self.req.0,
            bytes: self.req.1,
            start: self.start,
            end: self.end,
            accept: self.accept,
            status: Status::Ok,
            flags: if tcp { self.req_flags } else { 0 },
            dir,
            src_svc: None,
            dst_svc: self.server_svc,
            path: if dir == Dir::Egress {
                path_to(self.server, self.server_svc)
            } else {
                0
            },
        };
        if self.accept
            && let Some(e) = self.client_eni
        {
            out.push(req(e, Dir::Egress));
        }
        if let Some(e) = self.server_eni {
            out.push(req(e, Dir::Ingress));
        }
        let Some((packets, bytes)) = self.resp.filter(|_| self.accept) else {
            return;
        };
        let resp = |eni: u16, dir: Dir| Rec {
            eni,
            src: self.server,
            dst: self.client,
            sport: self.port,
            dport: self.cport,
            proto: self.proto,
            packets,
            bytes,
            start: self.start,
            end: self.end,
            accept: true,
            status: Status::Ok,
            flags: if tcp { 19 } else { 0 },
            dir,
            src_svc: self.server_svc,
            dst_svc: None,
            path: if dir == Dir::Egress {
                path_to(self.client, None)
            } else {
                0
            },
        };
        if let Some(e) = self.server_eni {
            out.push(resp(e, Dir::Egress));
        }
        if let Some(e) = self.client_eni {
            out.push(resp(e, Dir::Ingress));
        }
    }
}

/// Public address pools of one account.
pub struct Pools {
    clients: Vec<u32>,
    hot_clients: Vec<u32>,
    scanners: Vec<u32>,
    apis: Vec<u32>,
}

impl Pools {
    pub fn new(seed: u64, account: usize) -> Pools {
        let mut rng = Rng::new(seed, 0x900d + account as u64);
        Pools {
            clients: public_pool(&mut rng, 20_000),
            hot_clients: public_pool(&mut rng, 200),
            scanners: public_pool(&mut rng, 5_000),
            apis: public_pool(&mut rng, 50),
        }
    }
}

fn ephemeral(rng: &mut Rng) -> u16 {
    rng.range(32_768, 60_999) as u16
}

/// A connection of ours, with times inside the object.
fn conn(rng: &mut Rng, a: &Account, client: usize, server: usize, port: u16, t0: u64) -> Conn {
    let start = t0 + rng.below(240);
    Conn {
        client: a.enis[client].ip,
        client_eni: Some(client as u16),
        server: a.enis[server].ip,
        server_eni: Some(server as u16),
        cport: ephemeral(rng),
        port,
        proto: TCP,
        start,
        end: start + rng.range(1, 59),
        req: (rng.range(3, 40), rng.log_uniform(300, 40_000)),
        resp: Some((rng.range(3, 60), rng.log_uniform(500, 400_000))),
        accept: true,
        req_flags: 3,
        server_svc: None,
    }
}

/// Fills `out` up to `budget` records of benign traffic for the object starting at `t0`.
pub fn benign(
    rng: &mut Rng,
    a: &Account,
    pools: &Pools,
    object: u64,
    t0: u64,
    budget: usize,
    out: &mut Vec<Rec>,
) {
    let web = a.hosts(Role::Web);
    let app = a.hosts(Role::App);
    let db = a.hosts(Role::Db);
    let worker = a.hosts(Role::Worker);
    let alb = a.hosts(Role::Alb);
    let bastion = a.hosts(Role::Bastion);
    let idle = a.hosts(Role::Idle);
    let all: Vec<usize> = [&web, &app, &db, &worker]
        .into_iter()
        .flatten()
        .copied()
        .collect();

    // Once per object: the bastion opens one SSH session to one of three managed hosts.
    let managed = [web[0], app[0], db[0]];
    let target = managed[(object % 3) as usize];
    conn(rng, a, bastion[0], target, 22, t0).emit(out);
    // The idle interface reports NODATA for each 10-minute interval.
    if object.is_multiple_of(2) && budget > out.len() + 16 {
        out.push(Rec::status(idle[0] as u16, Status::NoData, t0, t0 + 600));
    }

    while out.len() < budget {
        let roll = rng.below(100);
        match roll {
            0..34 => {
                let server = *rng.pick(&web);
                let client = if rng.chance(0.3) {
                    *rng.pick(&pools.hot_clients)
                } else {
                    *rng.pick(&pools.clients)
                };
                let port = if rng.chance(0.9) { 443 } else { 80 };
                let mut c = conn(rng, a, server, server, port, t0);
                c.client = client;
                c.client_eni = None;
                c.emit(out);
            }
            34..52 => {
                let (c, s) = (*rng.pick(&web), *rng.pick(&app));
                conn(rng, a, c, s, 8080, t0).emit(out);
            }
            52..63 => {
                let (c, s) = (*rng.pick(&app), *rng.pick(&db));
                conn(rng, a, c, s, 5432, t0).emit(out);
            }
            63..70 => {
                let (c, s) = (*rng.pick(&alb), *rng.pick(&web));
                let mut c = conn(rng, a, c, s, 80, t0);
                c.client_eni = None; // load balancer interfaces are not in this flow log
                c.emit(out);
            }
            70..76 => {
                let from = if rng.chance(0.2) {
                    *rng.pick(&db)
                } else {
                    *rng.pick(&[&app[..], &worker[..]].concat())
                };
                let s3 = rng.chance(0.7);
                let mut c = conn(rng, a, from, from, 443, t0);
                c.server = aws_service_ip(rng, s3);
                c.server_eni = None;
                c.server_svc = Some(if s3 { "S3" } else { "DYNAMODB" });
                if a.enis[from].role == Role::Db {
                    // Backups: large uploads to S3 (excluded from exfiltration by the service field).
                    c.server_svc = Some("S3");
                    c.req = (
                        rng.range(50_000, 150_000),
                        rng.range(50_000_000, 200_000_000),
                    );
                }
                c.emit(out);
            }
            76..84 => {
                let from = *rng.pick(&worker);
                let mut c = conn(rng, a, from, from, 443, t0);
                c.server = *rng.pick(&pools.apis);
                c.server_eni = None;
                c.emit(out);
            }
            84..91 => {
                let from = *rng.pick(&all);
                let mut c = conn(rng, a, from, from, 53, t0);
                c.server = a.resolver();
                c.server_eni = None;
                c.proto = UDP;
                c.req = (1, rng.range(60, 120));
                c.resp = Some((1, rng.range(80, 400)));
                c.emit(out);
            }
            91..92 => {
                let from = *rng.pick(&all);
                let mut c = conn(rng, a, from, from, 123, t0);
                c.server = (169 << 24) | (254 << 16) | (169 << 8) | 123;
                c.server_eni = None;
                c.proto = UDP;
                c.req = (1, 76);
                c.resp = Some((1, 76));
                c.emit(out);
            }
            _ => {
                // Internet background noise: a scanner probes one port of one host.
                let target = *rng.pick(&all);
                let port = *rng.pick(&[
                    22, 23, 25, 80, 443, 445, 1433, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 0,
                ]);
                let port = if port == 0 {
                    rng.range(1, 65_535) as u16
                } else {
                    port
                };
                let open = a.enis[target].role == Role::Web && (port == 80 || port == 443);
                let start = t0 + rng.below(240);
                Conn {
                    client: *rng.pick(&pools.scanners),
                    client_eni: None,
                    server: a.enis[target].ip,
                    server_eni: Some(target as u16),
                    cport: ephemeral(rng),
                    port,
                    proto: TCP,
                    start,
                    end: start + rng.range(1, 30),
                    req: (1, *rng.pick(&[40, 44, 60])),
                    resp: None,
                    accept: open,
                    req_flags: 2,
                    server_svc: None,
                }
                .emit(out);
            }
        }
    }
    out.truncate(budget);
}

/// Dotted IPv4 text.
pub fn ip_text(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}

fn ip(text: &str) -> u32 {
    u32::from(text.parse::<std::net::Ipv4Addr>().expect("literal address"))
}

/// The planted attacks for the object starting at `t0` of account `a`, and their ground
/// truth (one entry per attack, with the default pack's rule id and the addresses whose
/// behaviour is the attack).
pub fn planted(rng: &mut Rng, a: &Account, t0: u64) -> (Vec<Rec>, Vec<Value>) {
    let mut out = Vec::new();
    let mut truth = Vec::new();
    let web = a.hosts(Role::Web);
    let app = a.hosts(Role::App);
    let db = a.hosts(Role::Db);
    let worker = a.hosts(Role::Worker);
    let bastion = a.hosts(Role::Bastion)[0];
    let at = |rng: &mut Rng, lo: u64, hi: u64| t0 + rng.range(lo, hi);
    let e = |i: usize| &a.enis[i];
    let mut entry = |kind: &str,
                     rule: &str,
                     src: String,
                     dst: Option<String>,
                     port: Option<u16>,
                     actors: Vec<String>,
                     what: &str| {
        truth.push(json!({
            "kind": kind,
            "default_rule": rule,
            "account": a.id,
            "src": src,
            "dst": dst,
            "dst_port": port,
            "window_contains": t0 + 150,
            "actors": actors,
            "description": what,
        }));
    };

    // 1. SSH to the bastion accepted from a public address.
    let attacker = "192.0.2.77";
    for k in 0..6 {
        let start = at(rng, 10 + k * 30, 20 + k * 30);
        Conn {
            client: ip(attacker),
            client_eni: None,
            server: e(bastion).ip,
            server_eni: Some(bastion as u16),
            cport: ephemeral(rng),
            port: 22,
            proto: TCP,
            start,
            end: start + 20,
            req: (rng.range(10, 40), rng.range(2_000, 9_000)),
            resp: Some((rng.range(10, 40), rng.range(2_000, 20_000))),
            accept: true,
            req_flags: 3,
            server_svc: None,
        }
        .emit(&mut out);
    }
    entry(
        "admin_port_exposure",
        "admin-port-exposure",
        attacker.into(),
        Some(ip_text(e(bastion).ip)),
        Some(22),
        vec![attacker.into()],
        "SSH to the bastion accepted from a public address",
    );

    // 2. Vertical scan of web-0: 60 ports rejected, plus SYN probes to 80 and 443.
    let scanner = "203.0.113.66";
    let target = web[0];
    let mut ports: Vec<u16> = (1..=1024).collect();
    rng.shuffle(&mut ports);
    ports.truncate(60);
    ports.retain(|p| *p != 80 && *p != 443);
    ports.extend([80, 443]);
    for (k, port) in ports.iter().enumerate() {
        let start = t0 + 20 + k as u64 * 2;
        let open = *port == 80 || *port == 443;
        Conn {
            client: ip(scanner),
            client_eni: None,
            server: e(target).ip,
            server_eni: Some(target as u16),
            cport: 61_000,
            port: *port,
            proto: TCP,
            start,
            end: start + 1,
            req: (1, 44),
            resp: None,
            accept: open,
            req_flags: 2,
            server_svc: None,
        }
        .emit(&mut out);
    }
    entry(
        "port_scan",
        "port-scan",
        scanner.into(),
        Some(ip_text(e(target).ip)),
        None,
        vec![scanner.into()],
        "one source probing 60 ports of one host",
    );

    // 3. Horizontal sweep: RDP on 30 hosts, rejected.
    let sweeper = "198.51.100.23";
    let hosts: Vec<usize> = [&web[..], &app[..], &db[..], &worker[..]]
        .concat()
        .into_iter()
        .take(30)
        .collect();
    for (k, h) in hosts.iter().enumerate() {
        let start = t0 + 30 + k as u64 * 3;
        Conn {
            client: ip(sweeper),
            client_eni: None,
            server: e(*h).ip,
            server_eni: Some(*h as u16),
            cport: 55_555,
            port: 3389,
            proto: TCP,
            start,
            end: start + 1,
            req: (1, 40),
            resp: None,
            accept: false,
            req_flags: 2,
            server_svc: None,
        }
        .emit(&mut out);
    }
    entry(
        "host_sweep",
        "host-sweep",
        sweeper.into(),
        None,
        Some(3389),
        vec![sweeper.into()],
        "one source probing RDP on 30 hosts",
    );

    // 4. Exfiltration: db-1 uploads ~2.2 GB to one external address.
    let sink = "185.220.101.33";
    let source = db[1];
    for k in 0..12 {
        let start = at(rng, 10 + k * 18, 15 + k * 18);
        Conn {
            client: e(source).ip,
            client_eni: Some(source as u16),
            server: ip(sink),
            server_eni: None,
            cport: ephemeral(rng),
            port: 443,
            proto: TCP,
            start,
            end: start + 55,
            req: (130_000, 180_000_000 + rng.below(1_000_000)),
            resp: Some((20_000, 1_200_000)),
            accept: true,
            req_flags: 3,
            server_svc: None,
        }
        .emit(&mut out);
    }
    entry(
        "exfiltration",
        "exfiltration",
        ip_text(e(source).ip),
        Some(sink.into()),
        None,
        vec![ip_text(e(source).ip), sink.into()],
        "about 2.2 GB from a database host to one external address",
    );

    // 5. Lateral movement: worker-7 opens SSH sessions to 14 internal hosts (both ends logged).
    let pivot = worker[7];
    let victims: Vec<usize> = [&app[..], &db[..], &worker[10..]]
        .concat()
        .into_iter()
        .take(14)
        .collect();
    for v in &victims {
        let mut c = conn(rng, a, pivot, *v, 22, t0);
        c.req = (rng.range(8, 20), rng.range(2_000, 6_000));
        c.emit(&mut out);
    }
    entry(
        "lateral_movement",
        "lateral-movement",
        ip_text(e(pivot).ip),
        None,
        None,
        vec![ip_text(e(pivot).ip)],
        "an internal host reaching 14 internal hosts over SSH",
    );

    // 6. Trust-zone violation: web-3 reaches db-0's PostgreSQL directly (db accepts only app).
    let (from, to) = (web[3], db[0]);
    for _ in 0..3 {
        conn(rng, a, from, to, 5432, t0).emit(&mut out);
    }
    entry(
        "trust_zones",
        "trust-zone-violation",
        ip_text(e(from).ip),
        Some(ip_text(e(to).ip)),
        Some(5432),
        vec![ip_text(e(from).ip)],
        "web reaching the database zone directly on 5432",
    );

    // 7. Insecure protocol: telnet accepted from the internet to web-2.
    let telnet = "198.51.100.200";
    let victim = web[2];
    let start = at(rng, 40, 200);
    Conn {
        client: ip(telnet),
        client_eni: None,
        server: e(victim).ip,
        server_eni: Some(victim as u16),
        cport: ephemeral(rng),
        port: 23,
        proto: TCP,
        start,
        end: start + 40,
        req: (40, 3_000),
        resp: Some((40, 9_000)),
        accept: true,
        req_flags: 3,
        server_svc: None,
    }
    .emit(&mut out);
    entry(
        "insecure_protocol",
        "insecure-protocol",
        telnet.into(),
        Some(ip_text(e(victim).ip)),
        Some(23),
        vec![telnet.into()],
        "telnet accepted from the internet",
    );

    // 8. Reject burst: 300 rejected SSH attempts at web-4.
    let noisy = "203.0.113.200";
    let victim = web[4];
    for k in 0..300u64 {
        let start = t0 + 5 + k * 4 / 5;
        Conn {
            client: ip(noisy),
            client_eni: None,
            server: e(victim).ip,
            server_eni: Some(victim as u16),
            cport: 30_000 + k as u16,
            port: 22,
            proto: TCP,
            start,
            end: start + 1,
            req: (1, 60),
            resp: None,
            accept: false,
            req_flags: 2,
            server_svc: None,
        }
        .emit(&mut out);
    }
    entry(
        "reject_burst",
        "reject-burst",
        noisy.into(),
        Some(ip_text(e(victim).ip)),
        Some(22),
        vec![noisy.into()],
        "300 rejected SSH attempts from one source",
    );

    // 9. Log health: app-2's interface reports SKIPDATA.
    let lossy = app[2];
    for k in 0..3 {
        out.push(Rec::status(
            lossy as u16,
            Status::SkipData,
            t0 + 60 * k,
            t0 + 60 * (k + 1),
        ));
    }
    truth.push(json!({
        "kind": "log_health",
        "default_rule": "log-skipdata",
        "account": a.id,
        "interface_id": e(lossy).id,
        "window_contains": t0 + 150,
        "actors": [],
        "description": "an interface whose flow records were dropped (SKIPDATA)",
    }));
    (out, truth)
}
