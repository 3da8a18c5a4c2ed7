//! The benign traffic of one VPC and one 5-minute period (`--realism 2`), one function per
//! pattern of a real estate, each logged as AWS logs it (see `flow`):
//!
//! - fixed-rate patterns, whatever the record budget: NLB TCP health checks (SYN, SYN-ACK, RST
//!   every 10 s), ALB HTTP health checks, the monitoring server scraping 9100 on every instance
//!   every 30 s (kept-alive and fresh connections), SNMP polls (udp 161) and pings, database
//!   connection pools and ALB keep-alive connections that outlive the run (records with flags
//!   0), backups (db → S3 through the gateway endpoint, traffic-path 7; db → backup host on
//!   rsync 873), the bastion's SSH session, and the idle interface's NODATA;
//! - request-driven patterns that fill the budget: internet clients → ALB, IPv6 clients → the
//!   dual-stack web tier, web → app 8080 (small requests), app → db, egress through the NAT
//!   gateway (both legs logged; the NAT's ports span 1024–65535, so replies land on 22, 3306,
//!   5432...), DNS to the custom resolvers (udp and tcp 53) and from the Route 53 Resolver
//!   endpoints, resolver upstream queries through the NAT, IPv6 egress through the egress-only
//!   gateway, interface endpoints (private addresses), gateway endpoints (S3, DynamoDB), and
//!   internet noise (rejected probes; SYNs to the NAT gateway that its interface logs ACCEPT).
//!
//! Traffic to the VPC's Amazon DNS server (.2), the instance metadata service and the Amazon
//! Time Sync Service is not logged by AWS, so none is written.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::estate::{Pools, Role, Vpc, aws_service};
use super::flow::{Conn2, End, ICMP, Nat, Rec2, Shape, TCP, Tap, UDP};
use super::rng::{Rng, splitmix};
use super::traffic::Status;

/// Everything a pattern needs for one VPC and period.
pub struct Ctx<'a> {
    pub vpc: &'a Vpc,
    pub pools: &'a Pools,
    pub rng: Rng,
    /// Start of the period (a multiple of 300).
    pub t0: u64,
    /// Whether this is the run's first period (long-lived connections open in it).
    pub first: bool,
    /// Whether this is the run's last period (the bastion session closes in it).
    pub last: bool,
    pub seed: u64,
}

pub const PERIOD: u64 = 300;

impl Ctx<'_> {
    pub fn tap(&self, i: usize) -> Tap {
        Tap {
            eni: i as u16,
            jitter: self.vpc.hosts[i].jitter,
        }
    }

    /// Host `i`'s IPv4 end.
    pub fn v4(&self, i: usize, port: u16) -> End {
        End {
            ip: self.vpc.hosts[i].ip4(),
            port,
            tap: Some(self.tap(i)),
            svc: None,
        }
    }

    /// Host `i`'s IPv6 end.
    pub fn v6(&self, i: usize, port: u16) -> End {
        End {
            ip: self.vpc.hosts[i].ip6(),
            port,
            tap: Some(self.tap(i)),
            svc: None,
        }
    }

    /// A Linux client's ephemeral port.
    pub fn eph(&mut self) -> u16 {
        self.rng.range(32_768, 60_999) as u16
    }

    /// A start time inside the period.
    pub fn at(&mut self) -> u64 {
        self.t0 + self.rng.below(PERIOD)
    }

    /// The NAT gateway relaying for this VPC, with a port of its range (1024–65535); one flow in
    /// 60 gets a port that is also a well-known service port, as happens at scale.
    pub fn nat(&mut self) -> Nat {
        let i = self.vpc.of(Role::Nat)[0];
        let port = if self.rng.chance(1.0 / 60.0) {
            *self
                .rng
                .pick(&[22, 23, 445, 1433, 3306, 3389, 5432, 6379, 27017])
        } else {
            self.rng.range(1024, 65_535) as u16
        };
        Nat {
            tap: self.tap(i),
            ip: self.vpc.hosts[i].ip4(),
            port,
        }
    }

    /// A port of a long-lived connection, fixed for the run.
    fn pinned(&self, a: usize, b: usize, k: u64) -> u16 {
        let mut h = self.seed
            ^ ((self.vpc.index as u64) << 48)
            ^ ((a as u64) << 32)
            ^ ((b as u64) << 16)
            ^ k;
        32_768 + (splitmix(&mut h) % 28_232) as u16
    }

    fn pick_of(&mut self, role: Role) -> usize {
        let all = self.vpc.of(role);
        *self.rng.pick(&all)
    }

    /// Every interface with an instance (the scrape targets).
    fn instances(&self) -> Vec<usize> {
        (0..self.vpc.hosts.len())
            .filter(|&i| {
                let r = self.vpc.hosts[i].role;
                !r.managed() && r != Role::Monitor && r != Role::Idle
            })
            .collect()
    }
}

/// An external IPv4 end.
pub fn ext4(ip: u32, port: u16) -> End {
    End {
        ip: IpAddr::V4(Ipv4Addr::from(ip)),
        port,
        tap: None,
        svc: None,
    }
}

/// An external IPv6 end.
pub fn ext6(ip: u128, port: u16) -> End {
    End {
        ip: IpAddr::V6(Ipv6Addr::from(ip)),
        port,
        tap: None,
        svc: None,
    }
}

/// A TCP connection inside the VPC (traffic-path 1 both ways), opened and closed.
pub fn tcp(
    client: End,
    server: End,
    start: u64,
    dur: u64,
    req: (u64, u64),
    resp: (u64, u64),
) -> Conn2 {
    Conn2 {
        client,
        server,
        proto: TCP,
        start,
        end: start + dur,
        req,
        resp,
        shape: Shape::Full,
        accept: true,
        client_path: 1,
        server_path: 1,
        nat: None,
    }
}

/// A UDP exchange inside the VPC.
pub fn udp(
    client: End,
    server: End,
    start: u64,
    dur: u64,
    req: (u64, u64),
    resp: (u64, u64),
) -> Conn2 {
    Conn2 {
        proto: UDP,
        ..tcp(client, server, start, dur, req, resp)
    }
}

/// Every fixed-rate pattern of the period.
pub fn fixed(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    nlb_health_checks(cx, out);
    alb_health_checks(cx, out);
    monitor_scrapes(cx, out);
    snmp_and_ping(cx, out);
    db_pools(cx, out);
    alb_keepalive(cx, out);
    backups(cx, out);
    bastion_session(cx, out);
    idle_nodata(cx, out);
}

/// Request-driven patterns, drawn by weight, until `out` holds `budget` records.
pub fn fill(cx: &mut Ctx, out: &mut Vec<Rec2>, budget: usize) {
    type Pattern = fn(&mut Ctx, &mut Vec<Rec2>);
    const MIX: [(u64, Pattern); 13] = [
        (22, alb_client_request),
        (10, ipv6_web_client),
        (20, web_to_app),
        (5, app_to_db),
        (12, nat_egress),
        (12, dns_query),
        (2, resolver_endpoint_forward),
        (3, dns_upstream),
        (5, ipv6_egress),
        (6, interface_endpoint),
        (3, gateway_endpoint),
        (3, internet_noise),
        (1, nat_noise),
    ];
    let total: u64 = MIX.iter().map(|(w, _)| w).sum();
    while out.len() < budget {
        let mut roll = cx.rng.below(total);
        for (w, f) in MIX {
            if roll < w {
                f(cx, out);
                break;
            }
            roll -= w;
        }
    }
}

/// NLB TCP health checks: each NLB interface opens a connection to every web target's 443
/// every 10 s and resets it after the handshake.
pub fn nlb_health_checks(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    for nlb in cx.vpc.of(Role::Nlb) {
        for web in cx.vpc.of(Role::Web) {
            let phase = cx.rng.below(10);
            for k in 0..PERIOD / 10 {
                let start = cx.t0 + phase + 10 * k;
                let client = End {
                    port: cx.rng.range(1024, 65_535) as u16,
                    ..cx.v4(nlb, 0)
                };
                let mut c = tcp(client, cx.v4(web, 443), start, 0, (2, 92), (1, 60));
                c.shape = Shape::SynRst;
                c.emit(out);
            }
        }
    }
}

/// ALB HTTP health checks: `GET /healthz` on web:80 every 30 s (the default) from each ALB
/// interface.
pub fn alb_health_checks(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    for alb in cx.vpc.of(Role::Alb) {
        for web in cx.vpc.of(Role::Web) {
            let phase = cx.rng.below(30);
            for k in 0..PERIOD / 30 {
                let start = cx.t0 + phase + 30 * k;
                let client = End {
                    port: cx.rng.range(1024, 65_535) as u16,
                    ..cx.v4(alb, 0)
                };
                let bytes = cx.rng.range(380, 460);
                tcp(client, cx.v4(web, 80), start, 0, (5, bytes), (4, 520)).emit(out);
            }
        }
    }
}

/// The monitoring server scrapes node_exporter (9100) on every instance every 30 s: three in
/// four targets over one kept-alive connection (records with flags 0 after the first), the
/// rest over a fresh connection per scrape.
pub fn monitor_scrapes(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let mon = cx.vpc.of(Role::Monitor)[0];
    for (n, target) in cx.instances().into_iter().enumerate() {
        if n % 4 != 3 {
            let port = cx.pinned(mon, target, 9100);
            let scrapes = PERIOD / 30;
            let mut c = tcp(
                cx.v4(mon, port),
                cx.v4(target, 9100),
                cx.t0,
                PERIOD - 1,
                (scrapes * 3, scrapes * cx.rng.range(300, 340)),
                (scrapes * 10, scrapes * cx.rng.range(18_000, 42_000)),
            );
            c.shape = if cx.first {
                Shape::Opens
            } else {
                Shape::Established
            };
            c.emit(out);
        } else {
            for k in 0..PERIOD / 30 {
                let start = cx.t0 + 30 * k + cx.rng.below(3);
                let client = cx.v4(mon, 0);
                let client = End {
                    port: cx.eph(),
                    ..client
                };
                let resp = (cx.rng.range(12, 30), cx.rng.range(18_000, 42_000));
                tcp(client, cx.v4(target, 9100), start, 1, (7, 640), resp).emit(out);
            }
        }
    }
}

/// SNMP polls (udp 161, one manager socket) every 5 minutes to every instance, and pings
/// to the web tier every minute.
pub fn snmp_and_ping(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let mon = cx.vpc.of(Role::Monitor)[0];
    let socket = cx.pinned(mon, mon, 161);
    for target in cx.instances() {
        let start = cx.t0 + 2 + cx.rng.below(50);
        let resp = (4, cx.rng.range(900, 2_400));
        udp(
            cx.v4(mon, socket),
            cx.v4(target, 161),
            start,
            1,
            (4, 340),
            resp,
        )
        .emit(out);
    }
    for web in cx.vpc.of(Role::Web) {
        let mut c = udp(
            cx.v4(mon, 0),
            cx.v4(web, 0),
            cx.t0 + 1,
            PERIOD - 2,
            (5, 420),
            (5, 420),
        );
        c.proto = ICMP;
        c.emit(out);
    }
}

/// Connection pools: every app server holds a connection to the primary database (db-0),
/// every other one also to the replica (db-1), open before the run and after it.
pub fn db_pools(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    for (n, app) in cx.vpc.of(Role::App).into_iter().enumerate() {
        for db in cx.vpc.of(Role::Db).into_iter().take(1 + n % 2) {
            {
                let port = cx.pinned(app, db, 5432);
                let q = cx.rng.range(40, 400);
                let mut c = tcp(
                    cx.v4(app, port),
                    cx.v4(db, 5432),
                    cx.t0 + cx.rng.below(5),
                    PERIOD - 6,
                    (q * 2, q * cx.rng.range(150, 400)),
                    (q * 2, q * cx.rng.range(300, 4_000)),
                );
                c.shape = Shape::Established;
                c.emit(out);
            }
        }
    }
}

/// The ALB's kept-alive connections to the web targets on 80.
pub fn alb_keepalive(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    for alb in cx.vpc.of(Role::Alb) {
        for web in cx.vpc.of(Role::Web) {
            let port = cx.pinned(alb, web, 80);
            let n = cx.rng.range(200, 2_000);
            let mut c = tcp(
                End {
                    port: 1024 + port % 60_000,
                    ..cx.v4(alb, 0)
                },
                cx.v4(web, 80),
                cx.t0,
                PERIOD - 1,
                (n * 2, n * 600),
                (n * 3, n * cx.rng.range(2_000, 9_000)),
            );
            c.shape = Shape::Established;
            c.emit(out);
        }
    }
}

/// Backups: each database uploads to S3 through the gateway endpoint (traffic-path 7,
/// `pkt-dst-aws-service` S3; several GB over the run) and the primary rsyncs to the backup host.
pub fn backups(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    for db in cx.vpc.of(Role::Db) {
        let (ip, svc) = aws_service(&mut cx.rng, "S3");
        let server = End {
            ip,
            port: 443,
            tap: None,
            svc: Some(svc),
        };
        let start = cx.at().min(cx.t0 + 200);
        let mb = cx.rng.range(150, 400) * 1_000_000;
        let mut c = tcp(
            cx.v4(db, cx.pinned(db, 0, cx.t0)),
            server,
            start,
            95,
            (mb / 1_400, mb),
            (mb / 2_800, mb / 40),
        );
        c.client_path = 7;
        c.emit(out);
    }
    let (db, backup) = (cx.vpc.of(Role::Db)[0], cx.vpc.of(Role::Backup)[0]);
    let mb = cx.rng.range(20, 200) * 1_000_000;
    let start = cx.t0 + cx.rng.below(60);
    let client = End {
        port: cx.eph(),
        ..cx.v4(db, 0)
    };
    tcp(
        client,
        cx.v4(backup, 873),
        start,
        170,
        (mb / 1_400, mb),
        (mb / 2_800, mb / 50),
    )
    .emit(out);
}

/// An administrator's SSH session from the bastion to an app server, open the whole run
/// (opened in the first period, closed in the last).
pub fn bastion_session(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let (bastion, app) = (cx.vpc.of(Role::Bastion)[0], cx.vpc.of(Role::App)[0]);
    let port = cx.pinned(bastion, app, 22);
    let mut c = tcp(
        cx.v4(bastion, port),
        cx.v4(app, 22),
        cx.t0 + 3,
        PERIOD - 4,
        (cx.rng.range(100, 600), cx.rng.range(8_000, 60_000)),
        (cx.rng.range(100, 600), cx.rng.range(20_000, 400_000)),
    );
    c.shape = match (cx.first, cx.last) {
        (true, true) => Shape::Full,
        (true, false) => Shape::Opens,
        (false, true) => Shape::Closes,
        (false, false) => Shape::Established,
    };
    c.emit(out);
}

/// The idle interface: one NODATA record per period.
pub fn idle_nodata(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let idle = cx.vpc.of(Role::Idle)[0];
    let j = cx.vpc.hosts[idle].jitter;
    out.push(Rec2::status(
        idle as u16,
        Status::NoData,
        cx.t0 + j,
        cx.t0 + PERIOD - 1 + j,
    ));
}

/// An internet client's HTTPS request to the ALB (the record shows the ALB's private address).
pub fn alb_client_request(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let alb = cx.pick_of(Role::Alb);
    let client = ext4(
        *cx.rng.pick(&cx.pools.clients),
        cx.rng.range(1024, 65_535) as u16,
    );
    let start = cx.at();
    let dur = cx.rng.log_uniform(1, 40);
    let req = (cx.rng.range(8, 30), cx.rng.log_uniform(1_200, 8_000));
    let resp = (cx.rng.range(8, 80), cx.rng.log_uniform(4_000, 600_000));
    let mut c = tcp(client, cx.v4(alb, 443), start, dur, req, resp);
    c.server_path = 8;
    c.emit(out);
}

/// An IPv6 client reaching a dual-stack web server directly on 443 (or 80).
pub fn ipv6_web_client(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let web = cx.pick_of(Role::Web);
    let client = ext6(
        *cx.rng.pick(&cx.pools.clients6),
        cx.rng.range(1024, 65_535) as u16,
    );
    let port = if cx.rng.chance(0.92) { 443 } else { 80 };
    let start = cx.at();
    let req = (cx.rng.range(8, 30), cx.rng.log_uniform(1_400, 9_000));
    let resp = (cx.rng.range(8, 80), cx.rng.log_uniform(4_000, 600_000));
    let mut c = tcp(
        client,
        cx.v6(web, port),
        start,
        cx.rng.log_uniform(1, 30),
        req,
        resp,
    );
    c.server_path = 8;
    c.emit(out);
}

/// A web server's small request to an app server on 8080: about 3 packets and 260 bytes.
pub fn web_to_app(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let (web, app) = (cx.pick_of(Role::Web), cx.pick_of(Role::App));
    let client = End {
        port: cx.eph(),
        ..cx.v4(web, 0)
    };
    let start = cx.at();
    let req = (cx.rng.range(3, 4), cx.rng.range(220, 320));
    let resp = (cx.rng.range(2, 4), cx.rng.range(200, 1_600));
    tcp(client, cx.v4(app, 8080), start, cx.rng.below(2), req, resp).emit(out);
}

/// A short database session (jobs, migrations) from an app server.
pub fn app_to_db(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let (app, db) = (cx.pick_of(Role::App), cx.pick_of(Role::Db));
    let client = End {
        port: cx.eph(),
        ..cx.v4(app, 0)
    };
    let start = cx.at();
    let req = (cx.rng.range(6, 40), cx.rng.log_uniform(600, 20_000));
    let resp = (cx.rng.range(6, 60), cx.rng.log_uniform(1_000, 200_000));
    tcp(
        client,
        cx.v4(db, 5432),
        start,
        cx.rng.range(1, 20),
        req,
        resp,
    )
    .emit(out);
}

/// An app or worker server calling an internet API (or a public AWS endpoint) through the
/// NAT gateway: logged on the instance and on both legs of the NAT gateway.
pub fn nat_egress(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let from = if cx.rng.chance(0.5) {
        cx.pick_of(Role::App)
    } else {
        cx.pick_of(Role::Worker)
    };
    let server = if cx.rng.chance(0.25) {
        let which = if cx.rng.chance(0.5) { "EC2" } else { "AMAZON" };
        let (ip, svc) = aws_service(&mut cx.rng, which);
        End {
            ip,
            port: 443,
            tap: None,
            svc: Some(svc),
        }
    } else {
        ext4(*cx.rng.pick(&cx.pools.apis), 443)
    };
    let client = End {
        port: cx.eph(),
        ..cx.v4(from, 0)
    };
    let start = cx.at();
    let req = (cx.rng.range(6, 40), cx.rng.log_uniform(900, 30_000));
    let resp = (cx.rng.range(6, 80), cx.rng.log_uniform(2_000, 900_000));
    let mut c = tcp(client, server, start, cx.rng.log_uniform(1, 50), req, resp);
    c.nat = Some(cx.nat());
    c.emit(out);
}

/// A DNS query to one of the two custom resolvers (udp 53; tcp 53 for large answers).
pub fn dns_query(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let all = cx.instances();
    let from = *cx.rng.pick(&all);
    let resolver = cx.pick_of(Role::Dns);
    let client = End {
        port: cx.eph(),
        ..cx.v4(from, 0)
    };
    let start = cx.at();
    if cx.rng.chance(0.03) {
        let resp = (cx.rng.range(4, 8), cx.rng.range(1_500, 9_000));
        tcp(client, cx.v4(resolver, 53), start, 0, (5, 380), resp).emit(out);
    } else {
        let resp = (1, cx.rng.range(90, 520));
        udp(
            client,
            cx.v4(resolver, 53),
            start,
            0,
            (1, cx.rng.range(60, 100)),
            resp,
        )
        .emit(out);
    }
}

/// A Route 53 Resolver outbound endpoint forwarding a query to a custom resolver.
pub fn resolver_endpoint_forward(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let (ep, resolver) = (cx.pick_of(Role::ResolverEndpoint), cx.pick_of(Role::Dns));
    let client = End {
        port: cx.rng.range(1024, 65_535) as u16,
        ..cx.v4(ep, 0)
    };
    let start = cx.at();
    let resp = (1, cx.rng.range(90, 400));
    udp(
        client,
        cx.v4(resolver, 53),
        start,
        0,
        (1, cx.rng.range(60, 100)),
        resp,
    )
    .emit(out);
}

/// A custom resolver's upstream query to a public resolver, through the NAT gateway.
pub fn dns_upstream(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let resolver = cx.pick_of(Role::Dns);
    let client = End {
        port: cx.eph(),
        ..cx.v4(resolver, 0)
    };
    let server = ext4(*cx.rng.pick(&cx.pools.upstream_dns), 53);
    let start = cx.at();
    let resp = (1, cx.rng.range(90, 500));
    let mut c = udp(client, server, start, 0, (1, cx.rng.range(60, 100)), resp);
    c.nat = Some(cx.nat());
    c.emit(out);
}

/// A dual-stack host calling an IPv6 service through the egress-only internet gateway.
pub fn ipv6_egress(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let from = if cx.rng.chance(0.7) {
        cx.pick_of(Role::Worker)
    } else {
        cx.pick_of(Role::Web)
    };
    let client = End {
        port: cx.eph(),
        ..cx.v6(from, 0)
    };
    let server = ext6(*cx.rng.pick(&cx.pools.apis6), 443);
    let start = cx.at();
    let req = (cx.rng.range(6, 40), cx.rng.log_uniform(900, 30_000));
    let resp = (cx.rng.range(6, 80), cx.rng.log_uniform(2_000, 900_000));
    let mut c = tcp(client, server, start, cx.rng.log_uniform(1, 50), req, resp);
    c.client_path = 8;
    c.emit(out);
}

/// An instance calling an AWS API through an interface endpoint (private addresses; the
/// endpoint's interface is logged too, with instance-id `-`).
pub fn interface_endpoint(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let all = cx.instances();
    let from = *cx.rng.pick(&all);
    let ep = cx.pick_of(Role::Endpoint);
    let client = End {
        port: cx.eph(),
        ..cx.v4(from, 0)
    };
    let start = cx.at();
    let req = (cx.rng.range(8, 30), cx.rng.log_uniform(1_500, 20_000));
    let resp = (cx.rng.range(6, 30), cx.rng.log_uniform(3_000, 60_000));
    tcp(
        client,
        cx.v4(ep, 443),
        start,
        cx.rng.range(0, 10),
        req,
        resp,
    )
    .emit(out);
}

/// An app or worker server reading from S3 or DynamoDB through a gateway endpoint.
pub fn gateway_endpoint(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let from = if cx.rng.chance(0.5) {
        cx.pick_of(Role::App)
    } else {
        cx.pick_of(Role::Worker)
    };
    let which = if cx.rng.chance(0.7) { "S3" } else { "DYNAMODB" };
    let (ip, svc) = aws_service(&mut cx.rng, which);
    let server = End {
        ip,
        port: 443,
        tap: None,
        svc: Some(svc),
    };
    let client = End {
        port: cx.eph(),
        ..cx.v4(from, 0)
    };
    let start = cx.at();
    let req = (cx.rng.range(6, 30), cx.rng.log_uniform(800, 20_000));
    let resp = (cx.rng.range(6, 400), cx.rng.log_uniform(2_000, 5_000_000));
    let mut c = tcp(client, server, start, cx.rng.range(0, 30), req, resp);
    c.client_path = 7;
    c.emit(out);
}

/// Internet background noise: a scanner's single SYN (or UDP packet) to a public address of
/// ours (the bastion's Elastic IP, an ALB, or a dual-stack host's IPv6 address), rejected by
/// the security group, or on a served port (80, 443 of the ALB and web tier) answered and
/// reset by the scanner: one accepted probe.
pub fn internet_noise(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let port = *cx.rng.pick(&[
        22, 23, 25, 80, 443, 445, 1433, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200, 0,
    ]);
    let port = if port == 0 {
        cx.rng.range(1, 65_535) as u16
    } else {
        port
    };
    let roll = cx.rng.below(10);
    let (client, server) = if roll < 5 {
        let target = if roll < 3 {
            cx.pick_of(Role::Bastion)
        } else {
            cx.pick_of(Role::Alb)
        };
        (
            ext4(
                *cx.rng.pick(&cx.pools.scanners),
                cx.rng.range(1024, 65_535) as u16,
            ),
            cx.v4(target, port),
        )
    } else {
        let target = if roll < 8 {
            cx.pick_of(Role::Worker)
        } else {
            cx.pick_of(Role::Web)
        };
        (
            ext6(
                *cx.rng.pick(&cx.pools.scanners6),
                cx.rng.range(1024, 65_535) as u16,
            ),
            cx.v6(target, port),
        )
    };
    let web_port = matches!(port, 80 | 443);
    let role = cx.vpc.hosts[usize::from(server.tap.expect("ours").eni)].role;
    let open = web_port && matches!(role, Role::Alb | Role::Web);
    let start = cx.at();
    let size = *cx.rng.pick(&[40, 44, 60, 74]);
    let mut c = tcp(
        client,
        server,
        start,
        cx.rng.below(3),
        (cx.rng.range(1, 2), size),
        (0, 0),
    );
    if open {
        // A served port: the scanner completes the handshake and resets (SYN, SYN-ACK, RST).
        c.shape = Shape::SynRst;
        c.req = (2, size + 40);
        c.resp = (1, size);
        c.server_path = 8;
    } else {
        c.shape = Shape::Syn;
        c.accept = false;
    }
    if !open && cx.rng.chance(0.1) {
        c.proto = UDP;
    }
    c.emit(out);
}

/// A scanner's SYN to the NAT gateway's public address: a NAT gateway's interface logs
/// unsolicited inbound packets as ACCEPT (it has no security group) and drops them without
/// answering.
pub fn nat_noise(cx: &mut Ctx, out: &mut Vec<Rec2>) {
    let nat = cx.vpc.of(Role::Nat)[0];
    let port = *cx.rng.pick(&[22, 23, 80, 443, 445, 3389, 5900, 8080, 0]);
    let port = if port == 0 {
        cx.rng.range(1, 65_535) as u16
    } else {
        port
    };
    let client = ext4(
        *cx.rng.pick(&cx.pools.scanners),
        cx.rng.range(1024, 65_535) as u16,
    );
    let start = cx.at();
    let mut c = tcp(client, cx.v4(nat, port), start, 0, (1, 44), (0, 0));
    c.shape = Shape::Syn;
    c.emit(out);
}
