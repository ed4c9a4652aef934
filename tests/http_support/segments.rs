//! A loopback HTTP/1.1 server for segmented (multi-connection, `Range: bytes=a-b`) downloads,
//! on `std::net`, with faults and limits that can be changed while it runs, and a log of every
//! request to assert on afterwards.
//!
//! Self-contained (std and parking_lot only), so a bench can include it too:
//!
//! ```text
//! #[path = "../tests/http_support/segments.rs"]
//! mod segments;
//! ```
//!
//! What it serves, per resource (a path and its bytes):
//! - `GET` and `HEAD`; keep-alive (a request with `Connection: close` closes after its answer);
//!   `404` for an unknown path, `405` for another method.
//! - `Range: bytes=a-b`, `bytes=a-` and `bytes=-n` as `206` with an exact `Content-Range`;
//!   a range past the end is `416` with `Content-Range: bytes */len`; a malformed range or a
//!   list of several is ignored (`200`, the whole body), as RFC 9110 allows.
//! - `If-Range`: the range is honoured only if the value is the current strong ETag or the
//!   current `Last-Modified` exactly; otherwise `200` with the whole current body. A weak ETag
//!   never matches.
//! - Every response has `Date: Wed, 02 Jul 2025 10:00:00 GMT`; `Last-Modified` of version `v` is
//!   `v` seconds after `Tue, 01 Jul 2025 00:00:00 GMT`, so it is strong (a day before `Date`).
//!   ETags are strong, `"<hash of the path>-v<version>"`.
//!
//! The knobs (all `&self`, any time):
//! - [`set_bandwidth_per_connection`](SegmentServer::set_bandwidth_per_connection): a token
//!   bucket per connection (burst 50 ms), so `N` connections get `N` times the bandwidth.
//! - [`set_bandwidth_of_connection`](SegmentServer::set_bandwidth_of_connection): a cap of one
//!   connection (by its number) in place of the common one: one slow connection among fast ones.
//! - [`set_cuts`](SegmentServer::set_cuts): with a probability per response, close the
//!   connection after a random number of body bytes (seeded, so a run can be repeated).
//! - [`set_ignore_range`](SegmentServer::set_ignore_range): always `200` with the whole body.
//! - [`replace_now`](SegmentServer::replace_now),
//!   [`replace_after_requests`](SegmentServer::replace_after_requests),
//!   [`replace_after`](SegmentServer::replace_after): new content, new ETag and date. A response
//!   already under way finishes with the content it started with.
//! - [`set_validators`](SegmentServer::set_validators): strong ETag and date (default), date
//!   only, weak ETag only, or none.
//! - [`set_chunked`](SegmentServer::set_chunked): no `Content-Length`, chunked bodies.
//! - [`set_retry_after`](SegmentServer::set_retry_after): `503` with `Retry-After` for the next
//!   `N` requests.
//!
//! The log: [`requests`](SegmentServer::requests) (method, path, `Range`, `If-Range`,
//! connection, time, status, the bytes planned and sent, whether it was cut),
//! [`max_concurrent_connections`](SegmentServer::max_concurrent_connections),
//! [`max_concurrent_responses`](SegmentServer::max_concurrent_responses),
//! [`bytes_fetched_twice`](SegmentServer::bytes_fetched_twice).

#![allow(dead_code, unreachable_pub)]

// An explicit path: this file is loaded as `http_support::segments` by the tests and through a
// `#[path]` of its own by benches, and a path attribute means the same file in both.
#[path = "segments/answer.rs"]
mod answer;
#[path = "segments/wire.rs"]
mod wire;

/// The `Date` of every response.
pub const DATE: &str = wire::DATE;

use answer::{Answer, reason};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::ops::Range;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
pub use wire::Rng;
use wire::{Bucket, Head};

/// Which validators responses carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Validators {
    /// A strong `ETag` and a (strong) `Last-Modified`.
    #[default]
    Strong,
    /// `Last-Modified` only.
    LastModifiedOnly,
    /// A weak `ETag` (`W/"..."`) only: nothing `If-Range` may use.
    WeakEtagOnly,
    /// Neither.
    None,
}

/// One request as the server saw and answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// Order of arrival, from 0 (kept across [`SegmentServer::clear_log`]).
    pub seq: usize,
    /// Which connection it came on, in order of acceptance from 0.
    pub connection: usize,
    /// When it arrived, from the server's start.
    pub at: Duration,
    pub method: String,
    /// The path, without a query.
    pub path: String,
    pub range: Option<String>,
    pub if_range: Option<String>,
    /// The status answered.
    pub status: u16,
    /// The content version answered (0 for an unknown path).
    pub version: u32,
    /// The body bytes the answer covers (offsets into that version; empty without a body).
    pub planned: Range<u64>,
    /// Body bytes written so far, counted just before each write, so a byte a client holds is
    /// counted; a piece whose write failed (the client went away) counts too.
    pub body_sent: u64,
    /// Whether the server cut this response (closing the connection inside the body).
    pub cut: bool,
}

impl Logged {
    /// The body bytes written, as offsets into the content version.
    pub fn sent(&self) -> Range<u64> {
        self.planned.start..self.planned.start + self.body_sent
    }
}

/// A server on 127.0.0.1 with a random port; stops (closing every connection) when dropped.
#[derive(Debug)]
pub struct SegmentServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    started: Instant,
    state: Mutex<State>,
    /// A handle on every open connection, to close them when the server stops.
    open: Mutex<HashMap<usize, TcpStream>>,
}

#[derive(Debug, Default)]
struct State {
    stopped: bool,
    resources: HashMap<String, Resource>,
    bandwidth: Option<u64>,
    /// Caps of single connections, by connection number, in place of `bandwidth`.
    bandwidth_of: HashMap<usize, u64>,
    cut_probability: f64,
    rng: Option<Rng>,
    ignore_range: bool,
    validators: Validators,
    chunked: bool,
    retry_after: Option<(usize, String)>,
    log: Vec<Logged>,
    requests_seen: usize,
    accepted: usize,
    open_connections: usize,
    max_connections: usize,
    active_responses: usize,
    max_responses: usize,
}

#[derive(Debug)]
struct Resource {
    body: Arc<Vec<u8>>,
    version: u32,
    switches: Vec<(Trigger, Vec<u8>)>,
}

#[derive(Debug, Clone, Copy)]
enum Trigger {
    /// When this many requests have arrived at the server in all.
    Requests(usize),
    At(Instant),
}

impl SegmentServer {
    pub fn start() -> SegmentServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            started: Instant::now(),
            state: Mutex::new(State::default()),
            open: Mutex::new(HashMap::new()),
        });
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let id = {
                    let mut state = accepting.state.lock();
                    if state.stopped {
                        break;
                    }
                    state.accepted += 1;
                    state.open_connections += 1;
                    state.max_connections = state.max_connections.max(state.open_connections);
                    state.accepted - 1
                };
                if let Ok(handle) = stream.try_clone() {
                    accepting.open.lock().insert(id, handle);
                }
                let shared = Arc::clone(&accepting);
                thread::spawn(move || {
                    shared.serve(stream, id);
                    shared.open.lock().remove(&id);
                    shared.state.lock().open_connections -= 1;
                });
            }
        });
        SegmentServer { addr, shared }
    }

    /// A server already holding `body` at `path`.
    pub fn with(path: &str, body: impl Into<Vec<u8>>) -> SegmentServer {
        let server = SegmentServer::start();
        server.add(path, body);
        server
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves `body` at `path`: version 1 of a new path, the next version of a known one.
    pub fn add(&self, path: &str, body: impl Into<Vec<u8>>) {
        let mut state = self.shared.state.lock();
        let body = Arc::new(body.into());
        match state.resources.get_mut(path) {
            Some(resource) => {
                resource.body = body;
                resource.version += 1;
            }
            None => {
                let resource = Resource { body, version: 1, switches: Vec::new() };
                state.resources.insert(path.to_owned(), resource);
            }
        }
    }

    /// New content (so a new ETag and `Last-Modified`) at `path` from the next request on.
    pub fn replace_now(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.add(path, body);
    }

    /// New content at `path` once `requests` more requests (to any path) have been answered
    /// with the current one.
    pub fn replace_after_requests(&self, path: &str, requests: usize, body: impl Into<Vec<u8>>) {
        let mut state = self.shared.state.lock();
        let trigger = Trigger::Requests(state.requests_seen + requests);
        state.resource(path).switches.push((trigger, body.into()));
    }

    /// New content at `path` for requests that arrive `delay` from now or later.
    pub fn replace_after(&self, path: &str, delay: Duration, body: impl Into<Vec<u8>>) {
        let trigger = Trigger::At(Instant::now() + delay);
        self.shared.state.lock().resource(path).switches.push((trigger, body.into()));
    }

    /// Caps each connection at `bytes_per_second` of body (`None`: no cap); running responses
    /// follow within 50 ms.
    pub fn set_bandwidth_per_connection(&self, bytes_per_second: Option<u64>) {
        self.shared.state.lock().bandwidth = bytes_per_second;
    }

    /// Caps connection number `connection` (in order of acceptance, from 0, as in the log) at
    /// `bytes_per_second` instead of the common cap (`None`: the common cap again); a response
    /// under way follows within 50 ms.
    pub fn set_bandwidth_of_connection(&self, connection: usize, bytes_per_second: Option<u64>) {
        let mut state = self.shared.state.lock();
        match bytes_per_second {
            Some(rate) => state.bandwidth_of.insert(connection, rate),
            None => state.bandwidth_of.remove(&connection),
        };
    }

    /// Cuts each response that has a body with `probability` (0 stops cutting), after a random
    /// number of its body bytes (0 to all but one), drawn from a generator seeded with `seed`.
    pub fn set_cuts(&self, probability: f64, seed: u64) {
        let mut state = self.shared.state.lock();
        state.cut_probability = probability;
        state.rng = Some(Rng::new(seed));
    }

    /// Answers every request with `200` and the whole body, whatever its `Range`.
    pub fn set_ignore_range(&self, ignore: bool) {
        self.shared.state.lock().ignore_range = ignore;
    }

    pub fn set_validators(&self, validators: Validators) {
        self.shared.state.lock().validators = validators;
    }

    /// Sends bodies chunked, without `Content-Length`.
    pub fn set_chunked(&self, chunked: bool) {
        self.shared.state.lock().chunked = chunked;
    }

    /// Answers the next `requests` requests with `503` and `Retry-After: value`.
    pub fn set_retry_after(&self, requests: usize, value: impl Into<String>) {
        self.shared.state.lock().retry_after = Some((requests, value.into()));
    }

    /// The current content at `path`.
    pub fn content(&self, path: &str) -> Arc<Vec<u8>> {
        Arc::clone(&self.shared.state.lock().resource(path).body)
    }

    /// The current content version at `path` (from 1).
    pub fn version(&self, path: &str) -> u32 {
        self.shared.state.lock().resource(path).version
    }

    /// The current strong ETag of `path` (sent as such under [`Validators::Strong`]).
    pub fn etag(&self, path: &str) -> String {
        wire::etag(path, self.version(path))
    }

    /// The current `Last-Modified` of `path`.
    pub fn last_modified(&self, path: &str) -> String {
        wire::last_modified(self.version(path))
    }

    /// Every request since the start (or the last [`clear_log`](Self::clear_log)), in order.
    pub fn requests(&self) -> Vec<Logged> {
        self.shared.state.lock().log.clone()
    }

    /// Forgets the requests so far (the counts of connections and responses stay).
    pub fn clear_log(&self) {
        self.shared.state.lock().log.clear();
    }

    /// Connections accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.shared.state.lock().accepted
    }

    /// The most connections open at once (idle keep-alive connections count).
    pub fn max_concurrent_connections(&self) -> usize {
        self.shared.state.lock().max_connections
    }

    /// The most responses being sent at once.
    pub fn max_concurrent_responses(&self) -> usize {
        self.shared.state.lock().max_responses
    }

    /// Body bytes of `path` that `GET`s received more than once (per content version): the
    /// bytes written in all minus the bytes of their union. Zero when no range was fetched twice.
    pub fn bytes_fetched_twice(&self, path: &str) -> u64 {
        let mut by_version: HashMap<u32, Vec<Range<u64>>> = HashMap::new();
        for logged in self.requests() {
            if logged.method == "GET" && logged.path == path && logged.body_sent > 0 {
                by_version.entry(logged.version).or_default().push(logged.sent());
            }
        }
        by_version.into_values().map(overlap).sum()
    }
}

/// Bytes of `ranges` covered more than once: their total length minus their union's.
fn overlap(mut ranges: Vec<Range<u64>>) -> u64 {
    ranges.sort_by_key(|r| r.start);
    let total: u64 = ranges.iter().map(|r| r.end - r.start).sum();
    let mut union = 0;
    let mut reach = 0;
    for r in ranges {
        let start = r.start.max(reach);
        if r.end > start {
            union += r.end - start;
        }
        reach = reach.max(r.end);
    }
    total - union
}

impl Drop for SegmentServer {
    fn drop(&mut self) {
        self.shared.state.lock().stopped = true;
        let _ = TcpStream::connect(self.addr);
        for stream in self.shared.open.lock().values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl State {
    fn resource(&mut self, path: &str) -> &mut Resource {
        self.resources.get_mut(path).unwrap_or_else(|| panic!("no resource at {path}"))
    }
}

/// An answer with its place in the log, ready to write.
struct Plan {
    seq: usize,
    head: Vec<u8>,
    answer: Answer,
    cut_at: Option<u64>,
    close: bool,
}

impl Resource {
    /// Applies the content switches due for request `seq` arriving at `now`, in order.
    fn switch(&mut self, seq: usize, now: Instant) {
        while let Some((trigger, _)) = self.switches.first() {
            let due = match *trigger {
                Trigger::Requests(count) => seq >= count,
                Trigger::At(at) => now >= at,
            };
            if !due {
                return;
            }
            let (_, body) = self.switches.remove(0);
            self.body = Arc::new(body);
            self.version += 1;
        }
    }
}

impl Shared {
    fn serve(&self, stream: TcpStream, connection: usize) {
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let Ok(mut writer) = stream.try_clone() else { return };
        let mut reader = BufReader::new(stream);
        let mut bucket = Bucket::new();
        while let Some(head) = wire::read_head(&mut reader) {
            let plan = self.plan(&head, connection);
            let answer = &plan.answer;
            let body = &answer.body[answer.range.start as usize..answer.range.end as usize];
            let rate = || {
                let state = self.state.lock();
                state.bandwidth_of.get(&connection).copied().or(state.bandwidth)
            };
            let sent = |n| self.record(plan.seq, |logged| logged.body_sent += n);
            let result = writer.write_all(&plan.head).and_then(|()| {
                wire::write_body(
                    &mut writer,
                    body,
                    answer.framing,
                    plan.cut_at,
                    &mut bucket,
                    rate,
                    sent,
                )
            });
            self.state.lock().active_responses -= 1;
            if result.is_err() || plan.cut_at.is_some() || plan.close {
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
        }
    }

    fn record(&self, seq: usize, change: impl FnOnce(&mut Logged)) {
        let mut state = self.state.lock();
        if let Some(logged) = state.log.iter_mut().rev().find(|l| l.seq == seq) {
            change(logged);
        }
    }

    /// Decides the answer to `head` and logs the request, under the lock.
    fn plan(&self, head: &Head, connection: usize) -> Plan {
        let mut state = self.state.lock();
        let state = &mut *state;
        let seq = state.requests_seen;
        state.requests_seen += 1;
        state.active_responses += 1;
        state.max_responses = state.max_responses.max(state.active_responses);
        let now = Instant::now();
        for resource in state.resources.values_mut() {
            resource.switch(seq, now);
        }
        let path = head.target.split('?').next().unwrap_or_default().to_owned();
        let answer = state.answer(head, &path);
        let len = answer.range.end - answer.range.start;
        let probability = state.cut_probability;
        let cut_at = match state.rng.as_mut() {
            Some(rng) if len > 0 => (rng.unit() < probability).then(|| rng.below(len)),
            _ => None,
        };
        state.log.push(Logged {
            seq,
            connection,
            at: now.duration_since(self.started),
            method: head.method.clone(),
            path,
            range: head.header("range").map(str::to_owned),
            if_range: head.header("if-range").map(str::to_owned),
            status: answer.status,
            version: answer.version,
            planned: answer.range.clone(),
            body_sent: 0,
            cut: cut_at.is_some(),
        });
        let close = head.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let mut bytes = format!("HTTP/1.1 {} {}\r\n", answer.status, reason(answer.status));
        for (name, value) in &answer.headers {
            bytes.push_str(&format!("{name}: {value}\r\n"));
        }
        if close {
            bytes.push_str("Connection: close\r\n");
        }
        bytes.push_str("\r\n");
        Plan { seq, head: bytes.into_bytes(), answer, cut_at, close }
    }
}
