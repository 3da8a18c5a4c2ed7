//! Probing vs serving, shared by `port_scan` and `host_sweep`.
//!
//! A scan or sweep is a client touching many targets with probes that were mostly rejected,
//! unanswered or answered only by a handshake; a client tier using a service, a monitoring
//! server scraping every host or a load balancer's health checks are answered (and mostly
//! served data), and are not. Per key (client and the targets' common part) a detector
//! keeps sets of targets ([`Targets`]): `touched` (client records), `answered` (the
//! target replied: SYN-ACK or data) and `served` (data flowed). Replies can arrive before or
//! after the probe they answer (interfaces are logged in different objects), so every reply
//! is also noted in a per-window [`Answers`] filter by (client, server, protocol, port) and
//! looked up when a probe creates or extends a key (one filter shared by the scan and sweep
//! detectors of the same window).
//!
//! Detectors sharing the filters also share the record's [`View`] (its connection, role and
//! connection hash): the first of them computes it once per record, the others read it
//! ([`Probes::view`]).
//!
//! A target's reset (RST without SYN-ACK, at most two packets) is a closed port: neither an
//! answer nor service.
//!
//! The count a rule thresholds on (see [`judge`]):
//! - internal client: targets touched − targets answered (a health checker is answered);
//! - public client: targets touched − targets served (an open port a scanner found still
//!   counts: it answered a probe, and no data followed).
//!
//! It fires when that count reaches the rule's minimum and at most
//! `100 − min_probe_share` percent of the targets touched served data. A public client's
//! finding is raised one severity level when its probes reached at least `escalate_accepted`
//! targets: ACCEPTed by the target's security group (the internet can reach it on that port;
//! a sender's own egress ACCEPT does not count, see [`accepted_by_target`]) or answered.
//! Relays (NAT gateways, which log unsolicited SYNs as ACCEPT and drop them) do not count as
//! reached, nor do the ports of `escalate_ignore` (the default pack's `web`:
//! a scanner that finds a public web host's 80 and 443 open found what it serves everyone). With `probes_only: false` every client record
//! counts and the serving test is off.

use std::collections::VecDeque;

use super::Conn;
use super::targets::{ACCEPTED, ANSWERED, SERVED, TOUCHED, Targets};
use crate::addr::Class;
use crate::finding::Severity;
use crate::flow::Flow;
use crate::initiator::{Answer, Initiator};
use crate::rules::{Probing, UnknownInitiator};
use crate::sketch::{Countable, Distinct, PairFilter, hash_addr, mix64};
use crate::time::window_start;

/// Lines of each window's answer filter: 2^14 lines of 512 bits (1 MiB; see [`PairFilter`]
/// for its false-positive rates: ≈ 0.03% at 100 k replies in a window, ≈ 14% at 1 M).
const ANSWER_LINES: u32 = 14;

/// [`Answers::noted`] before any note (no window starts at `u64::MAX`).
const NOTHING_NOTED: (u64, u64, bool) = (u64::MAX, 0, false);

/// Notes held back before they are written to the filters together (see [`Answers::note`]).
const PENDING: usize = 32;

/// The hash of one (client, server, protocol, port) connection, from the [`hash_addr`]s of
/// its client and server.
#[inline]
pub fn conn_hash(c: &Conn, client: u64, server: u64) -> u64 {
    mix64(client ^ server.rotate_left(23) ^ (u64::from(c.proto) << 16 | u64::from(c.port)))
}

/// [`hash_addr`] of an address whose upper 64 bits are zero (IPv4, which flow logs are
/// mostly made of): `mix64(0x9e37_79b9_7f4a_7c15)`, the hash of its upper half.
const ZERO_HIGH: u64 = 0xe220_a839_7b1d_cdaf;

/// [`hash_addr`], one mixing step shorter for IPv4 (same value).
#[inline]
fn hash_addr_fast(a: crate::addr::Addr) -> u64 {
    if a.0 >> 64 == 0 {
        mix64(a.0 as u64 ^ ZERO_HIGH)
    } else {
        hash_addr(a)
    }
}

/// Per-window filters of connections answered and served (one [`PairFilter`] per window:
/// answered is its marked set, served its flagged set). Port scans and host sweeps with the
/// same window and `probes_only` share one (see [`super::Shared`]): a record's connection is
/// the same for both, so each notes what the other would, and a filter costs one cache line
/// per record, not one per detector. Filters of closed windows are kept (cleared) for the
/// next window, so a new window costs no fresh pages.
pub struct Answers {
    size: u64,
    windows: VecDeque<(u64, PairFilter)>,
    spare: Vec<PairFilter>,
    /// The start and index of the window used last (most records fall in it).
    last: (u64, usize),
    /// The last note (window start, hash, served) while its window is open: a port scan and
    /// a host sweep sharing these filters note the same record's connection, and the second
    /// insert would set no new bit, so it is skipped.
    noted: (u64, u64, bool),
    /// Notes not yet written (window index, hash, served), written before any read, any
    /// change of the window list and every [`PENDING`] notes.
    pending: Vec<(usize, u64, bool)>,
}

impl Answers {
    /// Filters for windows of `size` seconds.
    pub fn new(size: u64) -> Answers {
        Answers {
            size: size.max(1),
            windows: VecDeque::new(),
            spare: Vec::new(),
            last: (u64::MAX, 0),
            noted: NOTHING_NOTED,
            pending: Vec::with_capacity(PENDING),
        }
    }

    /// The index of the window starting at `ws`, if open.
    #[inline]
    fn find(&mut self, ws: u64) -> Option<usize> {
        if self.last.0 == ws {
            return Some(self.last.1);
        }
        let i = self.windows.iter().rposition(|(s, _)| *s == ws)?;
        self.last = (ws, i);
        Some(i)
    }

    /// Notes a reply (or a client record that carried data) at `t`.
    ///
    /// The note is held back and written with up to [`PENDING`] others, before the next
    /// [`Answers::check`] at the latest: each insert is a cache miss into a 1 MiB filter, and
    /// written together their misses overlap instead of stalling the engine one by one. A
    /// filter's bits are the OR of its inserts, so the order of writes changes nothing, and
    /// every read sees every earlier note.
    #[inline]
    pub fn note(&mut self, t: u64, hash: u64, served: bool) {
        let ws = window_start(t, self.size);
        let (nws, nhash, nserved) = self.noted;
        if nws == ws && nhash == hash && (nserved || !served) {
            return; // already in this open window's filter (inserting is idempotent)
        }
        self.noted = (ws, hash, served);
        let at = match self.find(ws) {
            Some(i) => i,
            None => self.open(ws),
        };
        self.pending.push((at, hash, served));
        if self.pending.len() >= PENDING {
            self.flush();
        }
    }

    /// Writes the held-back notes.
    #[inline]
    fn flush(&mut self) {
        // Loads first (independent, so their misses overlap), then the stores.
        let mut lines = 0;
        for &(at, hash, _) in &self.pending {
            lines ^= self.windows[at].1.touch(hash);
        }
        std::hint::black_box(lines);
        for (at, hash, served) in self.pending.drain(..) {
            self.windows[at].1.insert(hash, served);
        }
    }

    /// Opens the window starting at `ws` (in start order); returns its index.
    #[cold]
    fn open(&mut self, ws: u64) -> usize {
        self.flush(); // the indices of held-back notes move
        let i = self
            .windows
            .iter()
            .rposition(|(s, _)| *s < ws)
            .map_or(0, |i| i + 1);
        let filter = match self.spare.pop() {
            Some(mut f) => {
                f.clear();
                f
            }
            None => PairFilter::new(ANSWER_LINES),
        };
        self.windows.insert(i, (ws, filter));
        self.last = (ws, i);
        i
    }

    /// Whether the connection was answered, and served, in the window holding `t`.
    #[inline]
    pub fn check(&mut self, t: u64, hash: u64) -> (bool, bool) {
        self.flush();
        let ws = window_start(t, self.size);
        match self.find(ws) {
            Some(i) => self.windows[i].1.get(hash),
            None => (false, false),
        }
    }

    /// Drops the filters of windows ending at or before `watermark` (keeping one for reuse).
    pub fn close(&mut self, watermark: u64) {
        self.flush();
        let frontier = if watermark == u64::MAX {
            u64::MAX
        } else {
            window_start(watermark, self.size)
        };
        while self
            .windows
            .front()
            .is_some_and(|(s, _)| s.saturating_add(self.size) <= frontier)
        {
            if let Some((_, f)) = self.windows.pop_front()
                && self.spare.is_empty()
                && watermark != u64::MAX
            {
                self.spare.push(f);
            }
        }
        if watermark == u64::MAX {
            self.spare.clear(); // the end: nothing will reuse it
        }
        self.last = (u64::MAX, 0);
        self.noted = NOTHING_NOTED;
    }

    /// Bytes held (open windows and the spare).
    pub fn bytes(&self) -> usize {
        self.windows
            .iter()
            .map(|(_, f)| f)
            .chain(&self.spare)
            .map(PairFilter::bytes)
            .sum()
    }
}

/// What a record means to the probe-counting detectors: its time, connection (see
/// [`super::probe_conn`]), [`Role`] and hashes.
#[derive(Clone, Copy, Debug)]
pub struct View {
    /// Record time.
    pub t: u64,
    /// Its connection.
    pub conn: Conn,
    /// What it means.
    pub role: Role,
    /// [`conn_hash`] of `conn`.
    pub hash: u64,
    /// [`hash_addr`] of the client.
    pub client: u64,
    /// [`hash_addr`] of the server.
    pub server: u64,
    /// An ICMP exchange (a ping sweep's unit): a request and its reply are told apart by
    /// nothing a flow log keeps, so each accepted record is its sender's probe of its
    /// receiver *and* its sender's answer to the receiver (`reverse`). A sweep of mostly
    /// dead addresses is left unanswered; a monitoring server's pings of live hosts are
    /// answered. Port scans ignore these.
    pub echo: bool,
}

impl View {
    /// [`conn_hash`] of the connection the other way round (this record answers it).
    #[inline]
    pub fn reverse(&self) -> u64 {
        let mut c = self.conn;
        std::mem::swap(&mut c.client, &mut c.server);
        conn_hash(&c, self.server, self.client)
    }
}

/// The [`View`] of a record; `None` without a time or a connection.
#[inline]
pub fn view(f: &Flow, unknown: UnknownInitiator, probes_only: bool) -> Option<View> {
    let t = f.time?;
    let conn = super::probe_conn(f, unknown)?;
    let echo = super::is_echo(f);
    let role = if echo {
        Role::Probe
    } else {
        role(f, &conn, probes_only)
    };
    let (client, server) = (hash_addr_fast(conn.client), hash_addr_fast(conn.server));
    Some(View {
        t,
        conn,
        role,
        hash: conn_hash(&conn, client, server),
        client,
        server,
        echo,
    })
}

/// What the port scans and host sweeps of one window length and `probes_only` share: the
/// answer filters and the current record's [`View`].
pub struct Probes {
    /// The answer filters.
    pub answers: Answers,
    /// The view of the record the leader saw last.
    view: Option<View>,
    /// Records the leader saw.
    records: u64,
}

impl Probes {
    /// Filters for windows of `size` seconds.
    pub fn new(size: u64) -> Probes {
        Probes {
            answers: Answers::new(size),
            view: None,
            records: 0,
        }
    }

    /// The view of a record for a detector sharing these that has seen `seen` records
    /// before this one (counted here). The `leader` (the first of them: it sees every record
    /// before the others) computes it and keeps it; the others take the kept view when the
    /// leader has seen as many records as they have (so it is this record's), else compute
    /// their own.
    #[inline]
    pub fn view(
        &mut self,
        leader: bool,
        seen: &mut u64,
        f: &Flow,
        unknown: UnknownInitiator,
        probes_only: bool,
    ) -> Option<View> {
        *seen += 1;
        if leader {
            self.records = *seen;
            self.view = view(f, unknown, probes_only);
            self.view
        } else if *seen == self.records {
            self.view
        } else {
            view(f, unknown, probes_only)
        }
    }
}

/// What a port scan or host sweep keeps per key.
#[derive(Default)]
pub struct Probed<T: Countable + Default> {
    /// Counts and evidence of the client records.
    pub tally: super::Tally,
    /// Targets the client's records reached ([`TOUCHED`]), that answered ([`ANSWERED`]),
    /// served data ([`SERVED`]), or that a probe reached: ACCEPTed by their security group,
    /// or answered ([`ACCEPTED`]).
    pub targets: Targets<T>,
    /// Client records held back by the admission gate before the key had state.
    pub held: u32,
    /// Whether the client is public.
    pub public: bool,
}

/// [`ACCEPTED`] when a probe record says the target's side let it in: ACCEPT logged on
/// ingress (or in a log without `flow-direction`). The sender's own egress ACCEPT says
/// only that its security group let it out: the address may not exist, or its security
/// group may REJECT it (that record is then a separate one); an answer still counts.
#[inline]
pub fn accepted_by_target(f: &Flow) -> u8 {
    let egress = f.direction == Some(flowlog::FlowDirection::Egress);
    if f.accepted() && !egress { ACCEPTED } else { 0 }
}

/// The sets a target joins from what the answer filters (or a reply) say about it.
#[inline]
pub fn learned((answered, served): (bool, bool)) -> u8 {
    (if answered { ANSWERED | ACCEPTED } else { 0 }) | if served { SERVED } else { 0 }
}

/// The layout [`Probed`] had before its sets were merged into [`Targets`] (four
/// [`Distinct`]s): a key is still budgeted at its size, so caps and the admission gate of a
/// `settings.state_budget` are what they were.
pub type Budgeted<T> = (super::Tally, [Distinct<T>; 4], u32, bool);

/// What a record means to a probing detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A client record that counts as a probe (may create the key).
    Probe,
    /// A client record that carried data (extends an existing key only).
    ClientData,
    /// A server's reply (extends an existing key only); `true` when it carried data.
    Reply(bool),
    /// Nothing to count.
    Skip,
}

/// The role of a record for a rule counting `probes_only`.
#[inline]
pub fn role(f: &Flow, c: &Conn, probes_only: bool) -> Role {
    if c.from_client {
        // A record whose initiator only the port fallback decided is a probe by the
        // side-blind test.
        let probe = if f.initiator == Initiator::Unknown {
            f.probe
        } else {
            f.client_probe
        };
        if probe || !probes_only {
            Role::Probe
        } else if f.answer == Answer::Data {
            Role::ClientData
        } else {
            Role::Skip
        }
    } else if refused(f) {
        // A reset from the target is a closed port: not an answer, not service.
        Role::Skip
    } else {
        match f.answer {
            Answer::SynAck => Role::Reply(false),
            Answer::Data => Role::Reply(true),
            Answer::None => Role::Skip,
        }
    }
}

/// A TCP reset without a SYN-ACK in at most two packets: the target refused the connection
/// (a closed port answers a SYN with RST).
#[inline]
pub(super) fn refused(f: &Flow) -> bool {
    f.protocol == Some(crate::services::TCP)
        && f.flags
            .is_some_and(|fl| fl & 0x04 != 0 && fl & 0x12 != 0x12)
        && f.packets <= 2
}

/// A judged key: the count to report, whether it is exact, and the severity.
pub struct Verdict {
    /// Targets probed and not served (public) or not answered (internal), plus held records.
    pub count: u64,
    /// Whether `count` is exact.
    pub exact: bool,
    /// Targets that answered.
    pub answered: u64,
    /// Targets that served data.
    pub served: u64,
    /// Targets a probe reached (accepted or answered), relays left out.
    pub accepted: u64,
    /// The finding's severity.
    pub severity: Severity,
    /// Every target touched (exact or estimated), when more than `count`: what the summary
    /// says was probed, beside `count` "not serving data" (public) or "unanswered".
    pub touched: Option<(u64, bool)>,
    /// What `count` leaves out: "not serving data" or "unanswered".
    pub basis: &'static str,
}

impl Verdict {
    /// `30 distinct hosts, 24 of them unanswered` (`24 distinct hosts` when no target
    /// was left out); `noun` is the target's (singular, plural).
    pub fn targets(&self, noun: (&str, &str)) -> String {
        let counted = |n: u64, exact: bool| {
            format!(
                "{} distinct {}",
                super::approx(n, exact),
                crate::text::noun(n, noun.0, noun.1)
            )
        };
        match self.touched {
            Some((n, exact)) => format!(
                "{}, {} of them {}",
                counted(n, exact),
                super::approx(self.count, self.exact),
                self.basis
            ),
            None => counted(self.count, self.exact),
        }
    }
}

/// Decides whether a key is a scan or sweep (see the module docs).
pub fn judge<T: Countable + Default>(
    s: &Probed<T>,
    min: u64,
    probes_only: bool,
    probing: &Probing,
    severity: Severity,
    not_reached: impl Fn(&T) -> bool,
) -> Option<Verdict> {
    let (touched, t_exact) = s.targets.count(TOUCHED);
    let (answered, a_exact) = s.targets.count(ANSWERED);
    let (served, s_exact) = s.targets.count(SERVED);
    let held = u64::from(s.held);
    let ((base, exact), basis) = if !probes_only {
        ((touched, t_exact), "")
    } else if s.public {
        (
            (touched.saturating_sub(served), t_exact && s_exact),
            "not serving data",
        )
    } else {
        (
            (touched.saturating_sub(answered), t_exact && a_exact),
            "unanswered",
        )
    };
    let count = base + held;
    if count < min {
        return None;
    }
    if probes_only && served * 100 > (100 - probing.min_probe_share.min(100)) * (touched + held) {
        return None;
    }
    // Targets whose acceptance says nothing do not count as reached (`not_reached`): a
    // relay (a NAT gateway's interface logs unsolicited SYNs as ACCEPT), and the ports of
    // `escalate_ignore` (a public web host serves 80 and 443 to every scanner).
    let (reached, _) = s.targets.count(ACCEPTED);
    let ignored = s
        .targets
        .sample(ACCEPTED)
        .iter()
        .filter(|t| not_reached(t))
        .count() as u64;
    let accepted = reached.saturating_sub(ignored);
    let escalate =
        s.public && probing.escalate_accepted > 0 && accepted >= probing.escalate_accepted;
    Some(Verdict {
        count,
        exact: exact && held == 0,
        answered,
        served,
        accepted,
        severity: if escalate {
            super::escalate(severity)
        } else {
            severity
        },
        touched: (touched + held > count).then_some((touched + held, t_exact && held == 0)),
        basis,
    })
}

/// Whether a client is public.
#[inline]
pub fn is_public(class: Class) -> bool {
    class == Class::Public
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Probe regression: "probed tcp/10250 on 24 distinct hosts" on a row whose targets say 30
    /// (24 of the 30 did not answer): the summary says both.
    #[test]
    fn a_summary_counts_every_target_and_those_the_verdict_counted() {
        let v = Verdict {
            count: 24,
            exact: true,
            answered: 6,
            served: 0,
            accepted: 6,
            severity: Severity::Medium,
            touched: Some((30, true)),
            basis: "unanswered",
        };
        assert_eq!(
            v.targets(("host", "hosts")),
            "30 distinct hosts, 24 of them unanswered"
        );
        let all = Verdict { touched: None, ..v };
        assert_eq!(all.targets(("port", "ports")), "24 distinct ports");
    }

    #[test]
    fn answers_are_per_window_and_a_reused_filter_starts_empty() {
        let mut a = Answers::new(300);
        a.note(10, 7, false);
        a.note(20, 8, true);
        a.note(310, 9, true);
        assert_eq!(a.check(299, 7), (true, false));
        assert_eq!(a.check(0, 8), (true, true));
        assert_eq!(a.check(310, 7), (false, false), "another window");
        assert_eq!(a.check(599, 9), (true, true));
        // An older window opened after a newer one is found too (out-of-order records).
        a.note(5, 10, false);
        assert_eq!(a.check(1, 10), (true, false));
        assert_eq!(a.check(301, 10), (false, false));
        // Closing [0, 300) keeps its filter for the next window, emptied.
        a.close(300);
        assert_eq!(a.check(10, 7), (false, false), "closed window");
        a.note(610, 11, false);
        for h in [7, 8, 10] {
            assert_eq!(
                a.check(610, h),
                (false, false),
                "key {h} leaked into a reused filter"
            );
        }
        assert_eq!(a.check(610, 11), (true, false));
        assert_eq!(
            a.check(320, 9),
            (true, true),
            "the open window is untouched"
        );
        assert!(a.bytes() > 0);
        a.close(u64::MAX);
        assert_eq!(a.check(610, 11), (false, false));
        assert_eq!(a.bytes(), 0, "nothing held after the last close");
    }

    #[test]
    fn a_repeated_note_is_skipped_only_while_it_would_change_nothing() {
        let mut a = Answers::new(300);
        a.note(10, 7, false);
        a.note(20, 7, false); // the same connection, same window: nothing new
        assert_eq!(a.check(0, 7), (true, false));
        a.note(30, 7, true); // now served: must not be skipped
        assert_eq!(a.check(0, 7), (true, true));
        a.note(40, 7, false); // weaker than what is there: skipped, still served
        assert_eq!(a.check(0, 7), (true, true));
        // Another window with the same hash is a new insert.
        a.note(310, 7, false);
        assert_eq!(a.check(310, 7), (true, false));
        // After its window closed, the same note (a late record reopening [0, 300)) lands
        // in a fresh filter: the memory of the last note is dropped at the close.
        a.note(50, 8, true);
        a.close(300);
        assert_eq!(a.check(50, 8), (false, false), "closed window");
        a.note(50, 8, true);
        assert_eq!(
            a.check(50, 8),
            (true, true),
            "the note after the close was skipped"
        );
    }

    /// The batched notes against immediate inserts into one filter per window (the former
    /// [`Answers`]), on random notes, checks and closes: every check answers the same.
    #[test]
    fn batched_notes_answer_like_immediate_inserts_on_random_input() {
        use std::collections::HashMap;
        let size = 300;
        let mut ours = Answers::new(size);
        let mut reference: HashMap<u64, PairFilter> = HashMap::new();
        let mut x = 7u64;
        let (mut t, mut hits) = (1_000u64, 0);
        for i in 0..100_000u32 {
            x = mix64(x);
            t = (t + x % 4).saturating_sub(u64::from(x.is_multiple_of(211)) * 500);
            let hash = mix64(x % 5_000);
            let ws = window_start(t, size);
            match (x >> 40) % 8 {
                0..=4 => {
                    let served = x & 1 << 20 != 0;
                    ours.note(t, hash, served);
                    reference
                        .entry(ws)
                        .or_insert_with(|| PairFilter::new(ANSWER_LINES))
                        .insert(hash, served);
                }
                5 | 6 => {
                    let want = reference.get(&ws).map_or((false, false), |f| f.get(hash));
                    assert_eq!(ours.check(t, hash), want, "check {i}");
                    hits += u32::from(want.0);
                }
                _ if x.is_multiple_of(16) => {
                    let wm = t.saturating_sub(200);
                    ours.close(wm);
                    let frontier = window_start(wm, size);
                    reference.retain(|s, _| s + size > frontier);
                }
                _ => {}
            }
        }
        assert!(hits > 1_000, "{hits} checks answered");
    }

    /// A detector that shares the leader's [`Probes`] takes the leader's view of the same
    /// record, and computes its own when it has seen a different number of records.
    #[test]
    fn followers_take_the_leaders_view_of_the_same_record_only() {
        let pack = crate::rules::RulePack::from_yaml("version: 1\ndetectors: []\n").unwrap();
        let cx = crate::Classifier::new(&pack, false);
        let schema = flowlog::Schema::from_header(
            "srcaddr dstaddr srcport dstport protocol packets bytes start end action tcp-flags",
        )
        .unwrap();
        let flow = |line: &str| cx.classify(&schema.decode(line).unwrap());
        let a = flow("203.0.113.5 10.0.0.1 40000 22 6 1 44 100 110 REJECT 2");
        let b = flow("10.0.0.1 203.0.113.5 22 40000 6 9 900 120 130 ACCEPT 18");
        let unknown = UnknownInitiator::Skip;
        let own = |f: &Flow| format!("{:?}", view(f, unknown, true));
        assert_ne!(own(&a), own(&b));
        let mut p = Probes::new(300);
        let (mut lead, mut follow) = (0, 0);
        let got = p.view(true, &mut lead, &a, unknown, true);
        assert_eq!(format!("{got:?}"), own(&a));
        let got = p.view(false, &mut follow, &a, unknown, true);
        assert_eq!(format!("{got:?}"), own(&a), "the leader's view");
        // The leader sees `b`; a follower that missed it is handed `a` again: not the
        // leader's view (one record behind), its own.
        p.view(true, &mut lead, &b, unknown, true);
        let mut behind = 0;
        let got = p.view(false, &mut behind, &a, unknown, true);
        assert_eq!(format!("{got:?}"), own(&a));
        let got = p.view(false, &mut follow, &b, unknown, true);
        assert_eq!(format!("{got:?}"), own(&b));
    }

    #[test]
    fn the_ipv4_hash_is_the_general_one() {
        use crate::addr::Addr;
        assert_eq!(ZERO_HIGH, mix64(0x9e37_79b9_7f4a_7c15));
        let mut x = 3u64;
        for i in 0..10_000u32 {
            x = mix64(x);
            let v4 = Addr(0xffff_u128 << 32 | u128::from(x as u32));
            let v6 = Addr(u128::from(x) << 64 | u128::from(mix64(x)));
            let low = Addr(u128::from(x));
            for a in [v4, v6, low] {
                assert_eq!(hash_addr_fast(a), hash_addr(a), "{i} {a:?}");
            }
        }
    }
}
