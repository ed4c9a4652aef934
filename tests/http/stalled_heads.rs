//! DESIGN 6.1 ("nothing stuck") and 6.2 (details): a stop interrupts a request whose response
//! head does not come, as it interrupts a blocked body read (`stalls`). A server accepts the
//! connection and then says nothing (or part of a status line and headers); the job's read
//! timeout is an hour, so only the interruption can free the worker and close the connection
//! before the test's patience runs out. The read timeout itself still ends a head that does not
//! come as a stall (`ERROR_TIMEOUT`). No test sleeps to synchronise or measures time: each
//! waits on the server (a connection accepted, then closed) or on the job.

use crate::http_support;

use bgcopy::clock::ManualClock;
use bgcopy::transport::HttpTransport;
use bgcopy::*;
use http_support::*;
use parking_lot::Mutex;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::Duration;

/// Long enough for anything a test waits for; the tests never rely on it passing.
const PATIENCE: Duration = Duration::from_secs(60);
/// The job's read (and connect) timeout: far beyond [`PATIENCE`].
const AN_HOUR: Duration = Duration::from_secs(3600);
/// The start of an answer that never ends.
const PART_OF_A_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: \"h\"\r\nDa";

/// A server on 127.0.0.1 that accepts connections, reads the request, sends `prefix` (maybe
/// nothing) and then never another byte. It tells of each connection accepted, and of each
/// connection the client closed.
struct Silent {
    addr: SocketAddr,
    accepted: Receiver<()>,
    closed: Receiver<()>,
}

impl Silent {
    fn start(prefix: &'static [u8]) -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let (accepted_tx, accepted) = channel();
        let (closed_tx, closed) = channel();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                if accepted_tx.send(()).is_err() {
                    return; // the test is over
                }
                let closed_tx = closed_tx.clone();
                thread::spawn(move || {
                    let _ = stream.set_nodelay(true);
                    let mut buf = [0u8; 4096];
                    let mut request = Vec::new();
                    // A request (or a `CONNECT`) ends with an empty line; a TLS ClientHello
                    // has none, and is read until the client closes.
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = stream.write_all(prefix);
                    // Nothing more is sent; the client's end closing ends the read.
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                    }
                    let _ = closed_tx.send(());
                });
            }
        });
        Silent { addr, accepted, closed }
    }

    fn url(&self) -> String {
        format!("http://{}/f", self.addr)
    }

    /// Waits until the server accepted a connection.
    fn wait_accepted(&self) {
        self.accepted.recv_timeout(PATIENCE).expect("the job's worker connects");
    }

    /// Waits until the client closed a connection: its worker let go of it.
    fn wait_closed(&self) {
        self.closed.recv_timeout(PATIENCE).expect("the worker lets go of the silent connection");
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        // Wakes the accept loop, which finds the test gone and ends.
        let _ = TcpStream::connect(self.addr);
    }
}

/// A manager with one worker and the HTTP transport, whose timeouts are an hour.
fn one_worker(clock: Option<Arc<ManualClock>>) -> Manager {
    let builder = Manager::builder()
        .workers(1)
        .transport(Arc::new(HttpTransport::new().with_timeouts(AN_HOUR, AN_HOUR)));
    match clock {
        Some(clock) => builder.clock(clock).build(),
        None => builder.build(),
    }
}

fn job(manager: &Manager, dir: &std::path::Path, name: &str, url: &str) -> Job {
    let job = manager.create_job(name, BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.set_http_timeouts(Some(AN_HOUR), Some(AN_HOUR)).unwrap();
    job.add_file(url, &dir.join(name)).unwrap();
    job
}

/// The one worker is free: a job on a good server transfers.
fn assert_worker_free(manager: &Manager, dir: &std::path::Path) {
    let data = Rng::new(51).bytes(10_000);
    let good = Resource::new(data.clone(), "g").serve();
    let next = job(manager, dir, "next", &good.url("/g"));
    next.resume().unwrap();
    assert_eq!(next.wait(PATIENCE), BgJobState::Transferred, "{:?}", next.get_error());
    next.complete().unwrap();
    assert_eq!(std::fs::read(dir.join("next")).unwrap(), data);
}

#[test]
fn suspend_while_the_head_is_awaited_closes_the_connection_and_frees_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let silent = Silent::start(b"");
    let manager = one_worker(None);
    let first = job(&manager, dir.path(), "a", &silent.url());
    first.resume().unwrap();
    silent.wait_accepted();
    first.suspend().unwrap();
    silent.wait_closed();
    assert_worker_free(&manager, dir.path());
    assert_eq!(first.get_state(), BgJobState::Suspended);
}

#[test]
fn cancel_while_part_of_the_head_is_in_closes_the_connection_and_frees_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let silent = Silent::start(PART_OF_A_HEAD);
    let manager = one_worker(None);
    let first = job(&manager, dir.path(), "a", &silent.url());
    first.resume().unwrap();
    silent.wait_accepted();
    first.cancel().unwrap();
    silent.wait_closed();
    assert_worker_free(&manager, dir.path());
}

#[test]
fn the_maximum_download_time_interrupts_a_head_that_does_not_come() {
    let dir = tempfile::tempdir().unwrap();
    let silent = Silent::start(b"");
    let clock = Arc::new(ManualClock::new());
    let manager = one_worker(Some(clock.clone()));
    let first = job(&manager, dir.path(), "a", &silent.url());
    first.set_maximum_download_time(Duration::from_secs(60)).unwrap();
    first.resume().unwrap();
    silent.wait_accepted();
    // The scheduler has seen the job transferring once this pass is over.
    manager.wait_engine_pass();
    clock.advance(Duration::from_secs(60));
    assert_eq!(first.wait(PATIENCE), BgJobState::Error);
    assert_eq!(first.get_error().unwrap().get_error().1, hresult::BG_E_MAXDOWNLOAD_TIMEOUT);
    silent.wait_closed();
    assert_worker_free(&manager, dir.path());
}

#[test]
fn suspend_while_a_proxy_does_not_answer_the_connect_closes_the_tunnel_and_frees_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    // The proxy reads the `CONNECT` and never answers it; the origin is never reached.
    let proxy = Silent::start(b"");
    let manager = one_worker(None);
    let first = job(&manager, dir.path(), "a", "http://origin.test/f");
    first
        .set_proxy_settings(BgJobProxyUsage::Override, Some(&proxy.addr.to_string()), None)
        .unwrap();
    first.resume().unwrap();
    proxy.wait_accepted();
    first.suspend().unwrap();
    proxy.wait_closed();
    assert_worker_free(&manager, dir.path());
}

#[test]
fn cancel_during_a_tls_handshake_that_does_not_go_on_frees_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    // Takes the ClientHello and never answers: the handshake waits for the connect timeout
    // (an hour), below the waits a stop ends; the worker is freed all the same.
    let silent = Silent::start(b"");
    let manager = one_worker(None);
    let first = job(&manager, dir.path(), "a", &format!("https://{}/f", silent.addr));
    first.resume().unwrap();
    silent.wait_accepted();
    first.cancel().unwrap();
    assert_worker_free(&manager, dir.path());
}

#[test]
fn suspend_while_a_segments_head_does_not_come_frees_the_worker_for_the_resumed_job() {
    let dir = tempfile::tempdir().unwrap();
    let data = Rng::new(53).bytes(4 * 1024 * 1024);
    let healed = Arc::new(Mutex::new(false));
    // Told of each bounded range asked for (a segment's request) while the server stalls.
    let (segment_asked, segment_requests) = channel();
    let segment_asked = Mutex::new(segment_asked);
    let resource = Resource::new(data.clone(), "s");
    let server = {
        let healed = Arc::clone(&healed);
        Server::start(move |r| {
            let reply = resource.respond(r);
            if *healed.lock() {
                return reply;
            }
            if r.bounded_range().is_some() {
                let _ = segment_asked.lock().send(());
                // A segment's answer: not even its status line.
                return reply.stall(0, AN_HOUR);
            }
            reply.stall(5_000, AN_HOUR)
        })
    };
    let manager = one_worker(None);
    let job = job(&manager, dir.path(), "a", &server.url("/f"));
    job.set_max_connections(2).unwrap();
    job.resume().unwrap();
    segment_requests.recv_timeout(PATIENCE).expect("a segment's request");
    job.suspend().unwrap();
    *healed.lock() = true;
    job.resume().unwrap();
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred, "{:?}", job.get_error());
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), data);
}

#[test]
fn a_head_that_does_not_come_within_the_read_timeout_is_still_a_stall() {
    for prefix in [&b""[..], PART_OF_A_HEAD] {
        let silent = Silent::start(prefix);
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_for(dir.path(), &silent.url());
        // Several of the transport's waits between two looks at the stop flag.
        job.set_http_timeouts(None, Some(Duration::from_secs(1))).unwrap();
        let transport = HttpTransport::new().with_timeouts(Duration::from_secs(5), AN_HOUR);
        let error = attempt(&transport, &job).unwrap_err();
        assert!(error.is_transient(), "{error:?}");
        assert_eq!(error.hresult(), hresult::ERROR_TIMEOUT_HR, "{error:?}");
        assert_eq!(job.get_state(), BgJobState::TransientError);
    }
}

#[test]
fn a_head_goes_on_where_it_was_after_quiet_slices() {
    let data = Rng::new(52).bytes(20_000);
    let resource = Resource::new(data.clone(), "q");
    // Quiet for longer than a few of the transport's waits inside the head, then the rest.
    let server = Server::start(move |r| resource.respond(r).stall(20, Duration::from_secs(1)));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    job.set_http_timeouts(None, Some(AN_HOUR)).unwrap();
    let transport = HttpTransport::new().with_timeouts(Duration::from_secs(5), AN_HOUR);
    attempt(&transport, &job).unwrap();
    assert_eq!(server.requests().len(), 1, "one request, its head read over the quiet");
    assert_eq!(completed_content(&job), data);
}
