//! A fault-injecting HTTP/1.1 proxy for the tests: it sits between the flowkeeper binary and
//! moto, logs every request, and at chosen call numbers of chosen requests resets the
//! connection, answers 500/503, loses the answer of a forwarded request, or stalls.
//!
//! A [`Rule`] names the request by substrings that must all occur in its head or body (for
//! example `Action=CreateFlowLogs` and `/eu-west-1/`, the region of the SigV4 scope, or
//! `Logs_20140328.CreateLogGroup` in `X-Amz-Target`), and the 1-based numbers of the matching
//! calls it applies to. Each rule counts its own matches; the first rule whose numbers include
//! the call decides. A stalled call is reported on [`FaultProxy::arrivals`] and held until
//! [`FaultProxy::release`] or until the client gives up (closes the connection); a released
//! call goes on as usual, one whose client left is dropped. Every wait has a deadline.
//!
//! One thread per client connection; each keeps its own upstream connection to moto.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a stalled call is held at most when neither released nor given up on.
const STALL_DEADLINE: Duration = Duration::from_secs(90);
/// How often a stalled call checks whether its client has left.
const CLIENT_CHECK: Duration = Duration::from_millis(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Reset the connection (TCP RST) instead of forwarding the request.
    Reset,
    /// Forward the request, then reset instead of relaying the answer: the call took effect
    /// but the client cannot know.
    LoseResponse,
    /// Answer this status (500, 503) without forwarding, in the service's error layout.
    Status(u16),
    /// Hold the request (not forwarded yet) until released or the client gives up.
    Stall,
    /// Forward the request, then hold its answer until released or the client gives up.
    StallResponse,
}

#[derive(Clone, Debug)]
pub struct Rule {
    all_of: Vec<String>,
    calls: RangeInclusive<usize>,
    fault: Fault,
}

impl Rule {
    /// `fault` for the matching calls numbered `calls` (1-based, counted by this rule).
    pub fn new(all_of: &[&str], calls: RangeInclusive<usize>, fault: Fault) -> Rule {
        Rule {
            all_of: all_of.iter().map(|s| s.to_string()).collect(),
            calls,
            fault,
        }
    }

    fn matches(&self, request: &str) -> bool {
        self.all_of.iter().all(|s| request.contains(s.as_str()))
    }
}

/// A stalled call that reached the proxy.
#[derive(Clone, Debug)]
pub struct Arrival {
    /// Index of the rule in the order given to [`FaultProxy::start`].
    pub rule: usize,
    /// The call's number among the rule's matches.
    pub call: usize,
    /// The request line.
    pub request_line: String,
}

struct Shared {
    upstream: String,
    rules: Vec<Rule>,
    seen: Mutex<Vec<usize>>,
    log: Mutex<Vec<String>>,
    released: (Mutex<bool>, Condvar),
    arrivals: Mutex<Sender<Arrival>>,
    stopped: AtomicBool,
}

pub struct FaultProxy {
    pub endpoint: String,
    shared: Arc<Shared>,
    arrivals: Mutex<Receiver<Arrival>>,
    addr: String,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://host:port`).
    pub fn start(upstream: &str, rules: Vec<Rule>) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let addr = listener.local_addr().expect("proxy address").to_string();
        let (tx, rx) = channel();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_start_matches("http://").to_string(),
            seen: Mutex::new(vec![0; rules.len()]),
            rules,
            log: Mutex::default(),
            released: (Mutex::new(false), Condvar::new()),
            arrivals: Mutex::new(tx),
            stopped: AtomicBool::new(false),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve(&s, client);
                });
            }
        });
        FaultProxy {
            endpoint: format!("http://{addr}"),
            shared,
            arrivals: Mutex::new(rx),
            addr,
        }
    }

    /// How many requests so far contained every one of `all_of`.
    pub fn count(&self, all_of: &[&str]) -> usize {
        let log = self.shared.log.lock().unwrap();
        log.iter()
            .filter(|r| all_of.iter().all(|s| r.contains(s)))
            .count()
    }

    /// Waits for the next stalled call to arrive; panics after `deadline`.
    pub fn next_arrival(&self, deadline: Duration) -> Arrival {
        self.arrivals
            .lock()
            .unwrap()
            .recv_timeout(deadline)
            .unwrap_or_else(|e| {
                panic!("no stalled call reached the proxy within {deadline:?}: {e}")
            })
    }

    /// Lets every stalled call (now and later) go on.
    pub fn release(&self) {
        let (lock, cv) = &self.shared.released;
        *lock.lock().unwrap() = true;
        cv.notify_all();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.release();
        let _ = TcpStream::connect(&self.addr); // wakes the accept loop so it sees `stopped`
    }
}

/// One HTTP/1.1 message as read off the wire (head and body bytes, unchanged).
struct Message {
    head: Vec<u8>,
    body: Vec<u8>,
    /// The peer will close after this message (or the body ran to end of stream).
    closes: bool,
}

impl Message {
    fn head_text(&self) -> String {
        String::from_utf8_lossy(&self.head).into_owned()
    }
    fn bytes(&self) -> Vec<u8> {
        [self.head.as_slice(), self.body.as_slice()].concat()
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads the head (through the blank line); None at a clean end of stream.
fn read_head(r: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let n = r.read_until(b'\n', &mut head)?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        if &head[before..] == b"\r\n" || &head[before..] == b"\n" {
            if before == 0 {
                head.clear(); // stray blank line between messages
                continue;
            }
            return Ok(Some(head));
        }
    }
}

fn read_chunked(r: &mut impl BufRead, body: &mut Vec<u8>) -> io::Result<()> {
    loop {
        let start = body.len();
        r.read_until(b'\n', body)?;
        let line = String::from_utf8_lossy(&body[start..]).into_owned();
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                let s = body.len();
                if r.read_until(b'\n', body)? == 0 || body[s..] == *b"\r\n" {
                    return Ok(());
                }
            }
        }
        let s = body.len();
        body.resize(s + size + 2, 0);
        r.read_exact(&mut body[s..])?;
    }
}

/// Reads one message. `no_body` for answers to HEAD and for 1xx/204/304 answers.
fn read_message(
    r: &mut impl BufRead,
    response: bool,
    no_body: bool,
) -> io::Result<Option<Message>> {
    let Some(head) = read_head(r)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    let mut closes = header(&text, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    let mut body = Vec::new();
    let bodiless = no_body || (response && (status < 200 || status == 204 || status == 304));
    if bodiless {
    } else if header(&text, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        read_chunked(r, &mut body)?;
    } else if let Some(len) = header(&text, "content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad content-length"))?;
        body.resize(len, 0);
        r.read_exact(&mut body)?;
    } else if response {
        r.read_to_end(&mut body)?;
        closes = true;
    }
    Ok(Some(Message { head, body, closes }))
}

/// An answer in the error layout the service's client parses.
fn error_answer(request: &str, status: u16) -> Vec<u8> {
    let (code, reason) = match status {
        503 => ("ServiceUnavailable", "Service Unavailable"),
        500 => ("InternalError", "Internal Server Error"),
        _ => ("InjectedFault", "Injected Fault"),
    };
    let message = "fault injected by the test proxy";
    let (content_type, body) = if header(request, "x-amz-target").is_some() {
        (
            "application/x-amz-json-1.1",
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
        )
    } else if request.contains("Action=") && request.contains("/ec2/") {
        (
            "text/xml",
            format!(
                "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>"
            ),
        )
    } else if request.contains("Action=") {
        (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
            ),
        )
    } else {
        (
            "application/xml",
            format!(
                "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>"
            ),
        )
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Makes the coming close a reset (RST) rather than an orderly FIN.
fn reset(client: &TcpStream) {
    let _ = socket2::SockRef::from(client).set_linger(Some(Duration::ZERO));
}

impl Shared {
    /// Logs the request and picks its fault, if any.
    fn decide(&self, request: &str) -> Option<(usize, usize, Fault)> {
        self.log.lock().unwrap().push(request.to_string());
        let mut seen = self.seen.lock().unwrap();
        let mut chosen = None;
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.matches(request) {
                seen[i] += 1;
                if chosen.is_none() && rule.calls.contains(&seen[i]) {
                    chosen = Some((i, seen[i], rule.fault));
                }
            }
        }
        chosen
    }

    /// Holds a stalled call: true once released, false when the client left or the deadline passed.
    fn hold(&self, client: &TcpStream) -> bool {
        let deadline = Instant::now() + STALL_DEADLINE;
        let (lock, cv) = &self.released;
        let mut released = lock.lock().unwrap();
        loop {
            if *released {
                return true;
            }
            if Instant::now() > deadline || client_left(client) {
                return false;
            }
            released = cv.wait_timeout(released, CLIENT_CHECK).unwrap().0;
        }
    }
}

/// True when the client closed its end (a zero-byte peek).
fn client_left(client: &TcpStream) -> bool {
    if client.set_nonblocking(true).is_err() {
        return true;
    }
    let mut b = [0u8; 1];
    let gone = match client.peek(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    };
    let _ = client.set_nonblocking(false);
    gone
}

/// The upstream connection of one client connection, opened on demand.
struct Upstream {
    addr: String,
    conn: Option<(TcpStream, BufReader<TcpStream>)>,
}

impl Upstream {
    fn exchange(&mut self, req: &Message, no_body: bool) -> io::Result<Message> {
        for fresh in [false, true] {
            if fresh || self.conn.is_none() {
                let s = TcpStream::connect(&self.addr)?;
                let r = BufReader::new(s.try_clone()?);
                self.conn = Some((s, r));
            }
            let (w, r) = self.conn.as_mut().expect("connected above");
            let sent = w.write_all(&req.bytes()).and_then(|_| w.flush());
            match sent.and_then(|_| read_message(r, true, no_body)) {
                Ok(Some(m)) => {
                    if m.closes {
                        self.conn = None;
                    }
                    return Ok(m);
                }
                // A kept-alive connection moto closed meanwhile: once more on a fresh one.
                Ok(None) | Err(_) if !fresh => continue,
                Ok(None) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Err(e) => return Err(e),
            }
        }
        unreachable!("the second pass returns")
    }
}

fn serve(s: &Shared, client: TcpStream) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut writer = client.try_clone()?;
    let mut upstream = Upstream {
        addr: s.upstream.clone(),
        conn: None,
    };
    while let Some(req) = read_message(&mut reader, false, false)? {
        let head = req.head_text();
        let text = format!("{head}{}", String::from_utf8_lossy(&req.body));
        let no_body = head.starts_with("HEAD ");
        let request_line = head.lines().next().unwrap_or_default().to_string();
        let answer = match s.decide(&text) {
            None => upstream.exchange(&req, no_body)?,
            Some((_, _, Fault::Reset)) => {
                reset(&client);
                return Ok(());
            }
            Some((_, _, Fault::LoseResponse)) => {
                let _ = upstream.exchange(&req, no_body);
                reset(&client);
                return Ok(());
            }
            Some((_, _, Fault::Status(code))) => {
                writer.write_all(&error_answer(&text, code))?;
                writer.flush()?;
                continue;
            }
            Some((rule, call, Fault::Stall)) => {
                let _ = s.arrivals.lock().unwrap().send(Arrival {
                    rule,
                    call,
                    request_line,
                });
                if !s.hold(&client) {
                    return Ok(());
                }
                upstream.exchange(&req, no_body)?
            }
            Some((rule, call, Fault::StallResponse)) => {
                let answer = upstream.exchange(&req, no_body)?;
                let _ = s.arrivals.lock().unwrap().send(Arrival {
                    rule,
                    call,
                    request_line,
                });
                if !s.hold(&client) {
                    return Ok(());
                }
                answer
            }
        };
        writer.write_all(&answer.bytes())?;
        writer.flush()?;
        if answer.closes {
            return Ok(());
        }
    }
    Ok(())
}
