//! A loopback HTTP/1.1 server for the transport tests, written on `std::net` so that faults can
//! be injected byte-exactly: cut a response anywhere, stall it, lie in its headers, send more than
//! announced. Plus a correct range-serving resource, a tiny deterministic PRNG, and a driver loop
//! that runs a job's attempts through a transport without the engine.

#![allow(dead_code, unreachable_pub)]

pub mod blackhole;
pub mod segments;

use bgcopy::transport::{HttpTransport, TransferError, TransferRequest, Transport};
use bgcopy::*;
use parking_lot::Mutex;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Order of arrival at this server, from 0.
    pub seq: usize,
    pub method: String,
    /// The request target (path, or an absolute URL through a proxy).
    pub target: String,
    /// Headers with lower-case names, in order.
    pub headers: Vec<(String, String)>,
    /// The `host:port` of the CONNECT tunnel this request came through, if any.
    pub tunnel: Option<String>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// `N` of a `Range: bytes=N-` header.
    pub fn range_start(&self) -> Option<u64> {
        self.header("range")?.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok()
    }

    /// `(first, last)` of a `Range: bytes=first-last` header (bounded; `last` inclusive).
    pub fn bounded_range(&self) -> Option<(u64, u64)> {
        let (first, last) = self.header("range")?.strip_prefix("bytes=")?.split_once('-')?;
        Some((first.parse().ok()?, last.parse().ok()?))
    }
}

/// How a response is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length` of the body (or of the full body, for HEAD).
    Length,
    /// `Content-Length` with this value, whatever the body is.
    LengthOf(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body ends when the connection closes.
    Close,
}

/// What the server sends back.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub framing: Framing,
    /// Close the connection after this many bytes of the whole response (head included).
    pub cut_after: Option<usize>,
    /// After this many bytes of the whole response, wait this long before going on.
    pub stall: Option<(usize, Duration)>,
    /// Send the response in pieces of this many bytes with this pause after each (a slow link).
    pub pace: Option<(usize, Duration)>,
}

impl Reply {
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            framing: Framing::Length,
            cut_after: None,
            stall: None,
            pace: None,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    pub fn framing(mut self, framing: Framing) -> Reply {
        self.framing = framing;
        self
    }

    pub fn cut_after(mut self, bytes: usize) -> Reply {
        self.cut_after = Some(bytes);
        self
    }

    pub fn stall(mut self, after: usize, pause: Duration) -> Reply {
        self.stall = Some((after, pause));
        self
    }

    pub fn pace(mut self, piece: usize, pause: Duration) -> Reply {
        self.pace = Some((piece.max(1), pause));
        self
    }

    /// The bytes on the wire for `method`, and whether the connection must close after them.
    fn encode(&self, method: &str) -> (Vec<u8>, bool) {
        let mut head = format!("HTTP/1.1 {} X\r\n", self.status).into_bytes();
        for (name, value) in &self.headers {
            head.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        let mut close = false;
        let body: Vec<u8> = match &self.framing {
            Framing::Length => {
                head.extend_from_slice(
                    format!("Content-Length: {}\r\n", self.body.len()).as_bytes(),
                );
                self.body.clone()
            }
            Framing::LengthOf(n) => {
                head.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes());
                self.body.clone()
            }
            Framing::Chunked => {
                head.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
                let mut out = Vec::new();
                for chunk in self.body.chunks(7 * 1024) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
                out
            }
            Framing::Close => {
                head.extend_from_slice(b"Connection: close\r\n");
                close = true;
                self.body.clone()
            }
        };
        head.extend_from_slice(b"\r\n");
        if method != "HEAD" {
            head.extend_from_slice(&body);
        }
        (head, close || self.cut_after.is_some())
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A server on 127.0.0.1 with a random port; stops when dropped.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<Mutex<bool>>,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let stop = Arc::new(Mutex::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        {
            let (stop, log) = (Arc::clone(&stop), Arc::clone(&log));
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if *stop.lock() {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (handler, log) = (Arc::clone(&handler), Arc::clone(&log));
                    thread::spawn(move || serve(stream, &*handler, &log));
                }
            });
        }
        Server { addr, stop, log }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        *self.stop.lock() = true;
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    let mut tunnel = None;
    loop {
        let Some((method, target, headers)) = read_head(&mut reader) else { return };
        if method == "CONNECT" {
            tunnel = Some(target);
            if writer.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").is_err() {
                return;
            }
            continue;
        }
        let request = {
            let mut log = log.lock();
            let request = Request {
                seq: log.len(),
                method: method.clone(),
                target,
                headers,
                tunnel: tunnel.clone(),
            };
            log.push(request.clone());
            request
        };
        let reply = handler(&request);
        let (bytes, close) = reply.encode(&method);
        let end = reply.cut_after.unwrap_or(usize::MAX).min(bytes.len());
        let mut sent = 0;
        if let Some((at, pause)) = reply.stall {
            let at = at.min(end);
            if writer.write_all(&bytes[..at]).is_err() {
                return;
            }
            let _ = writer.flush();
            thread::sleep(pause);
            sent = at;
        }
        let piece = reply.pace.map_or(usize::MAX, |(piece, _)| piece);
        for chunk in bytes[sent..end].chunks(piece.min(end - sent).max(1)) {
            if writer.write_all(chunk).is_err() {
                return;
            }
            let _ = writer.flush();
            if let Some((_, pause)) = reply.pace {
                thread::sleep(pause);
            }
        }
        if close {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Method, target and headers of a request.
type Head = (String, String, Vec<(String, String)>);

fn read_head(reader: &mut BufReader<TcpStream>) -> Option<Head> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Some((method, target, headers))
}

/// A file served correctly: `Range: bytes=N-` honoured when `If-Range` (if sent) matches its
/// ETag or date, `416` past the end, `HEAD` answered.
#[derive(Debug, Clone)]
pub struct Resource {
    pub content: Vec<u8>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

pub const LAST_MODIFIED: &str = "Tue, 01 Jul 2025 10:00:00 GMT";
pub const DATE: &str = "Wed, 02 Jul 2025 10:00:00 GMT";

impl Resource {
    pub fn new(content: Vec<u8>, etag: &str) -> Resource {
        Resource { content, etag: Some(format!("\"{etag}\"")), last_modified: None }
    }

    fn validators(&self, mut reply: Reply) -> Reply {
        reply = reply.header("Date", DATE);
        if let Some(etag) = &self.etag {
            reply = reply.header("ETag", etag.clone());
        }
        if let Some(date) = &self.last_modified {
            reply = reply.header("Last-Modified", date.clone());
        }
        reply
    }

    /// A loopback server that answers every request with [`respond`](Self::respond).
    pub fn serve(self) -> Server {
        Server::start(move |r| self.respond(r))
    }

    /// The full content, `200`.
    pub fn full(&self) -> Reply {
        self.validators(Reply::new(200)).body(self.content.clone())
    }

    /// The correct answer to `request` (`Range: bytes=N-` or `bytes=N-M`).
    pub fn respond(&self, request: &Request) -> Reply {
        let len = self.content.len() as u64;
        let bounded = request.bounded_range();
        let Some(start) = request.range_start().or(bounded.map(|(first, _)| first)) else {
            return self.full();
        };
        if let Some(if_range) = request.header("if-range") {
            let matches = Some(if_range) == self.etag.as_deref()
                || Some(if_range) == self.last_modified.as_deref();
            if !matches {
                return self.full();
            }
        }
        if start >= len {
            return Reply::new(416).header("Content-Range", format!("bytes */{len}"));
        }
        match bounded {
            Some((first, last)) if last >= first => self.partial_range(first, last.min(len - 1)),
            Some(_) => self.full(),
            None => self.partial(start),
        }
    }

    /// `206` of bytes `first..=last`.
    pub fn partial_range(&self, first: u64, last: u64) -> Reply {
        let len = self.content.len() as u64;
        self.validators(Reply::new(206))
            .header("Content-Range", format!("bytes {first}-{last}/{len}"))
            .body(self.content[first as usize..=last as usize].to_vec())
    }

    /// `206` from `start` to the end, with a correct `Content-Range`.
    pub fn partial(&self, start: u64) -> Reply {
        let len = self.content.len() as u64;
        self.validators(Reply::new(206))
            .header("Content-Range", format!("bytes {start}-{}/{len}", len - 1))
            .body(self.content[start as usize..].to_vec())
    }
}

/// xorshift64*: deterministic, seedable (one generator for every loopback server).
pub use segments::Rng;

/// A manager without an engine and a job with one file from `url` into `dir`, resumed, direct
/// (no proxy from the environment).
pub fn job_for(dir: &std::path::Path, url: &str) -> (Manager, Job) {
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("http test", BgJobType::Download).expect("create job");
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).expect("proxy");
    job.add_file(url, &dir.join("out.bin")).expect("add file");
    job.resume().expect("resume");
    (manager, job)
}

/// One attempt through the driver API, as the engine would make it; a failure is recorded on
/// the job (`TransientError` or `Error`) and returned.
pub fn attempt(transport: &HttpTransport, job: &Job) -> Result<(), TransferError> {
    let driver = job.claim().map_err(TransferError::from)?;
    driver.connected()?;
    while let Some(file) = driver.next_file() {
        let index = file.index();
        let mut sink = driver.open_file(index)?;
        let request = TransferRequest::new(job, &file);
        let result = transport.transfer(&request, &mut sink).and_then(|()| sink.finish());
        if let Err(error) = result {
            driver.fail(error.clone(), Some(index))?;
            return Err(error);
        }
    }
    driver.finish()
}

/// Attempts until the job is `Transferred`, a fatal error, or `max` attempts; returns every
/// attempt's result.
pub fn attempts(
    transport: &HttpTransport,
    job: &Job,
    max: usize,
) -> Vec<Result<(), TransferError>> {
    let mut results = Vec::new();
    for _ in 0..max {
        let result = attempt(transport, job);
        let done = result.is_ok() || job.get_state() == BgJobState::Error;
        results.push(result);
        if done {
            break;
        }
        assert_eq!(job.get_state(), BgJobState::TransientError, "{:?}", results.last());
        job.retry_now().expect("retry");
    }
    results
}

/// Completes a transferred job and reads its one file.
pub fn completed_content(job: &Job) -> Vec<u8> {
    assert_eq!(job.get_state(), BgJobState::Transferred);
    job.complete().expect("complete");
    std::fs::read(job.enum_files()[0].get_local_name()).expect("read result")
}

/// A transport with short timeouts for tests.
pub fn transport() -> HttpTransport {
    HttpTransport::new().with_timeouts(Duration::from_secs(5), Duration::from_secs(5))
}

/// The name the test harness gives test function `test` of the module whose `module_path!()` is
/// `module_path`: that path without the test binary's own name (`crash::crash_child` in the
/// binary `durability`). For a child process that runs one test of its binary with `--exact`:
/// a name that matches no test would run nothing and exit with success.
pub fn test_name(module_path: &str, test: &str) -> String {
    let (_binary, module) = module_path.split_once("::").unwrap_or(("", module_path));
    if module.is_empty() { test.to_owned() } else { format!("{module}::{test}") }
}
