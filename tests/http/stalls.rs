//! DESIGN 6.2 (details) and 6.1 ("nothing stuck"): a stop interrupts a read that is blocked.
//! A server sends the headers and part of the body, then nothing; the job's read timeout is an
//! hour, so only the interruption can free the worker before the test's patience runs out. The
//! read timeout itself still fires as a stall (`ERROR_TIMEOUT`): see
//! `http::stalled_server_fails_transiently_after_the_read_timeout`. No test sleeps or measures
//! time: each waits on the job (its state, its progress).

use crate::http_support;

use bgcopy::clock::ManualClock;
use bgcopy::transport::HttpTransport;
use bgcopy::*;
use http_support::*;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

/// Long enough for anything a test waits for; the tests never rely on it passing.
const PATIENCE: Duration = Duration::from_secs(60);
/// A pause that outlasts every test: a server "stalls" with it.
const FOREVER: Duration = Duration::from_secs(3600);
/// The job's read timeout: far beyond [`PATIENCE`].
const AN_HOUR: Duration = Duration::from_secs(3600);

fn content(seed: u64, len: usize) -> Vec<u8> {
    Rng::new(seed).bytes(len)
}

/// A manager with one worker and the HTTP transport, whose read timeout is an hour.
fn one_worker(clock: Option<Arc<ManualClock>>) -> Manager {
    let builder = Manager::builder()
        .workers(1)
        .transport(Arc::new(HttpTransport::new().with_timeouts(Duration::from_secs(5), AN_HOUR)));
    match clock {
        Some(clock) => builder.clock(clock).build(),
        None => builder.build(),
    }
}

fn job(manager: &Manager, dir: &std::path::Path, name: &str, url: &str) -> Job {
    let job = manager.create_job(name, BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.set_http_timeouts(None, Some(AN_HOUR)).unwrap();
    job.add_file(url, &dir.join(name)).unwrap();
    job
}

/// Waits until file 0 of `job` holds at least `bytes`.
fn wait_for_bytes(job: &Job, bytes: u64) {
    let events = job.subscribe().with_progress_interval(Some(Duration::from_millis(10)));
    let file = job.enum_files().remove(0);
    if file.get_progress().bytes_transferred >= bytes {
        return;
    }
    for _ in events {
        if file.get_progress().bytes_transferred >= bytes {
            return;
        }
    }
    panic!("the job ended before file 0 held {bytes} bytes");
}

/// A server whose answers stall after `stall_at` bytes on the wire until it is healed.
fn stalling_server(data: Vec<u8>, stall_at: usize) -> (Server, Arc<Mutex<bool>>) {
    let healed = Arc::new(Mutex::new(false));
    let resource = Resource::new(data, "s");
    let server = {
        let healed = Arc::clone(&healed);
        Server::start(move |r| {
            let reply = resource.respond(r);
            if *healed.lock() { reply } else { reply.stall(stall_at, FOREVER) }
        })
    };
    (server, healed)
}

#[test]
fn suspend_during_a_blocked_read_frees_the_worker_for_the_resumed_job() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(41, 40_000);
    let (server, healed) = stalling_server(data.clone(), 5_000);
    let manager = one_worker(None);
    let job = job(&manager, dir.path(), "a", &server.url("/f"));
    job.resume().unwrap();
    wait_for_bytes(&job, 1);
    job.suspend().unwrap();
    *healed.lock() = true;
    job.resume().unwrap();
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred, "{:?}", job.get_error());
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), data);
}

#[test]
fn cancel_during_a_blocked_read_frees_the_worker_for_the_next_job() {
    let dir = tempfile::tempdir().unwrap();
    let (stuck, _healed) = stalling_server(content(42, 40_000), 5_000);
    let good_data = content(43, 10_000);
    let good = Resource::new(good_data.clone(), "g").serve();
    let manager = one_worker(None);
    let first = job(&manager, dir.path(), "a", &stuck.url("/f"));
    first.resume().unwrap();
    wait_for_bytes(&first, 1);
    first.cancel().unwrap();
    let second = job(&manager, dir.path(), "b", &good.url("/g"));
    second.resume().unwrap();
    assert_eq!(second.wait(PATIENCE), BgJobState::Transferred, "{:?}", second.get_error());
    second.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("b")).unwrap(), good_data);
}

#[test]
fn the_maximum_download_time_interrupts_a_blocked_read_and_frees_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let (stuck, _healed) = stalling_server(content(44, 40_000), 5_000);
    let good_data = content(45, 10_000);
    let good = Resource::new(good_data.clone(), "g").serve();
    let clock = Arc::new(ManualClock::new());
    let manager = one_worker(Some(clock.clone()));
    let first = job(&manager, dir.path(), "a", &stuck.url("/f"));
    first.set_maximum_download_time(Duration::from_secs(60)).unwrap();
    first.resume().unwrap();
    wait_for_bytes(&first, 1);
    // The scheduler has seen the job transferring once this pass is over.
    manager.wait_engine_pass();
    clock.advance(Duration::from_secs(60));
    assert_eq!(first.wait(PATIENCE), BgJobState::Error);
    assert_eq!(first.get_error().unwrap().get_error().1, hresult::BG_E_MAXDOWNLOAD_TIMEOUT);
    let second = job(&manager, dir.path(), "b", &good.url("/g"));
    second.resume().unwrap();
    assert_eq!(second.wait(PATIENCE), BgJobState::Transferred, "{:?}", second.get_error());
    second.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("b")).unwrap(), good_data);
}

#[test]
fn suspend_interrupts_blocked_segment_reads() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(46, 4 * 1024 * 1024);
    let healed = Arc::new(Mutex::new(false));
    // Told of each bounded range asked for (a segment's request) while the server stalls.
    let (segment_asked, segment_requests) = std::sync::mpsc::channel();
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
            }
            reply.stall(5_000, FOREVER)
        })
    };
    let manager = one_worker(None);
    let job = job(&manager, dir.path(), "a", &server.url("/f"));
    job.set_max_connections(2).unwrap();
    job.resume().unwrap();
    // Both connections are on the file: the first one's and a segment's answers stall.
    segment_requests.recv_timeout(PATIENCE).expect("a segment's request");
    job.suspend().unwrap();
    *healed.lock() = true;
    job.resume().unwrap();
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred, "{:?}", job.get_error());
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), data);
}

#[test]
fn a_read_timeout_of_several_slices_is_still_a_stall() {
    let (server, _healed) = stalling_server(content(47, 40_000), 5_000);
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    // Several of the transport's waits between two looks at the stop flag.
    job.set_http_timeouts(None, Some(Duration::from_secs(1))).unwrap();
    let transport = HttpTransport::new().with_timeouts(Duration::from_secs(5), AN_HOUR);
    let error = attempt(&transport, &job).unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(error.hresult(), hresult::ERROR_TIMEOUT_HR);
    assert_eq!(job.get_state(), BgJobState::TransientError);
    assert!(job.get_progress().bytes_transferred > 0);
}

#[test]
fn a_body_read_goes_on_where_it_was_after_quiet_slices() {
    let data = content(48, 40_000);
    let resource = Resource::new(data.clone(), "q");
    // Quiet for longer than a few of the transport's waits, then the rest of the body.
    let server = Server::start(move |r| resource.respond(r).stall(5_000, Duration::from_secs(1)));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    job.set_http_timeouts(None, Some(AN_HOUR)).unwrap();
    let transport = HttpTransport::new().with_timeouts(Duration::from_secs(5), AN_HOUR);
    attempt(&transport, &job).unwrap();
    assert_eq!(server.requests().len(), 1, "one request, read to its end");
    assert_eq!(completed_content(&job), data);

    // The same in chunks: the chunk being decoded goes on too.
    let chunked = data.clone();
    let server = Server::start(move |_| {
        Reply::new(200)
            .body(chunked.clone())
            .framing(Framing::Chunked)
            .stall(5_000, Duration::from_secs(1))
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    job.set_http_timeouts(None, Some(AN_HOUR)).unwrap();
    attempt(&transport, &job).unwrap();
    assert_eq!(server.requests().len(), 1, "one request, read to its end");
    assert_eq!(completed_content(&job), data);
}
