//! Segmented downloads (DESIGN 5.3) against the loopback segment server: several connections
//! per file where a validated range resume is possible, one connection everywhere else, every
//! request after the first with `If-Range`, a changed validator restarting the file once, cuts
//! retried, and progress sampled all along never out of bounds. Driven through the driver API
//! (no engine), except where the engine is the point.

use crate::http_support;

use bgcopy::transport::TransferError;
use bgcopy::*;
use http_support::segments::{Logged, SegmentServer, Validators};
use http_support::{Rng, attempt, attempts, completed_content, job_for, transport};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;

fn content(seed: u64, len: usize) -> Vec<u8> {
    Rng::new(seed).bytes(len)
}

/// Reads the job's progress in a loop until dropped, checking every sample: never above the
/// total, never more files than there are, bytes never going back (unless `restarts` allows
/// it), and `Transferred` only with every byte.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<(usize, usize)>>,
}

impl Sampler {
    fn start(job: &Job, restarts: bool) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let (job, flag) = (job.clone(), Arc::clone(&stop));
        let thread = thread::spawn(move || {
            let (mut samples, mut backwards, mut last) = (0, 0, 0);
            while !flag.load(Ordering::Relaxed) {
                let p = job.get_progress();
                if p.bytes_total != BG_SIZE_UNKNOWN {
                    assert!(p.bytes_transferred <= p.bytes_total, "{p:?}");
                }
                assert!(p.files_transferred <= p.files_total, "{p:?}");
                if p.bytes_transferred < last {
                    assert!(restarts, "progress went back: {last} then {p:?}");
                    backwards += 1;
                }
                last = p.bytes_transferred;
                samples += 1;
                thread::yield_now();
            }
            (samples, backwards)
        });
        Sampler { stop, thread: Some(thread) }
    }

    /// Stops sampling; returns the samples taken and how often progress went back.
    fn finish(mut self) -> (usize, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().expect("a sample was out of bounds")
    }
}

/// The requests for `/f` that fetched bytes (GETs).
fn gets(server: &SegmentServer) -> Vec<Logged> {
    server.requests().into_iter().filter(|r| r.method == "GET" && r.path == "/f").collect()
}

/// A job on `server`'s `/f` with `connections` allowed.
fn segmented_job(
    server: &SegmentServer,
    dir: &std::path::Path,
    connections: u32,
) -> (Manager, Job) {
    let (manager, job) = job_for(dir, &server.url("/f"));
    job.set_max_connections(connections).unwrap();
    (manager, job)
}

#[test]
fn four_connections_share_a_file_and_the_result_is_byte_identical() {
    let body = content(1, 8 * MIB + 12_345);
    let server = SegmentServer::with("/f", body.clone());
    // A cap per connection, so that the connections overlap for a while.
    server.set_bandwidth_per_connection(Some(8 * MIB as u64));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = segmented_job(&server, dir.path(), 4);
    let sampler = Sampler::start(&job, false);
    let results = attempts(&transport(), &job, 1);
    let (samples, _) = sampler.finish();
    assert!(results[0].is_ok(), "{results:?}");
    assert!(samples > 10);
    let requests = gets(&server);
    assert!(server.max_concurrent_responses() >= 3, "{requests:#?}");
    assert!(server.max_concurrent_responses() <= 4);
    assert!(requests.len() >= 4, "{requests:#?}");
    // Only the first request's open-ended answer can overshoot the range its connection kept
    // (bytes in flight when its range was split): a small part of the file.
    assert!(server.bytes_fetched_twice("/f") < body.len() as u64 / 8);
    assert_eq!(job.get_progress().bytes_transferred, body.len() as u64);
    assert_eq!(completed_content(&job), body);
}

#[test]
fn every_request_after_the_first_carries_if_range() {
    for validators in [Validators::Strong, Validators::LastModifiedOnly] {
        let body = content(2, 4 * MIB);
        let server = SegmentServer::with("/f", body.clone());
        server.set_validators(validators);
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = segmented_job(&server, dir.path(), 3);
        assert!(attempts(&transport(), &job, 1)[0].is_ok());
        let requests = gets(&server);
        let expected = match validators {
            Validators::Strong => server.etag("/f"),
            _ => server.last_modified("/f"),
        };
        assert_eq!(requests[0].range.as_deref(), Some("bytes=0-"), "{validators:?}");
        assert_eq!(requests[0].if_range, None);
        assert!(requests.len() >= 2, "{validators:?}: {requests:#?}");
        for later in &requests[1..] {
            assert_eq!(later.if_range.as_deref(), Some(expected.as_str()), "{later:?}");
            assert_eq!(later.status, 206, "{later:?}");
            let range = later.range.as_deref().unwrap();
            assert!(range.starts_with("bytes=") && !range.ends_with('-'), "bounded: {range}");
        }
        assert_eq!(completed_content(&job), body, "{validators:?}");
    }
}

#[test]
fn without_a_usable_validator_or_ranges_one_connection_does_it_all_a_stated_length_is_enough() {
    for (case, setup) in [
        ("weak etag", (Validators::WeakEtagOnly, false, false)),
        ("no validator", (Validators::None, false, false)),
        ("ignores range", (Validators::Strong, true, false)),
        // Chunked, but each 206 states the complete length: segments.
        ("chunked", (Validators::Strong, false, true)),
    ] {
        let body = content(3, 4 * MIB);
        let server = SegmentServer::with("/f", body.clone());
        let (validators, ignore, chunked) = setup;
        // A cap per connection, so that connections, where they are used, overlap.
        server.set_bandwidth_per_connection(Some(16 * MIB as u64));
        server.set_validators(validators);
        server.set_ignore_range(ignore);
        server.set_chunked(chunked);
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = segmented_job(&server, dir.path(), 4);
        let results = attempts(&transport(), &job, 1);
        assert!(results[0].is_ok(), "{case}: {results:?}");
        let requests = gets(&server);
        let one = case != "chunked";
        assert_eq!(requests.len() == 1, one, "{case}: {requests:#?}");
        assert_eq!(server.max_concurrent_responses() == 1, one, "{case}");
        assert_eq!(completed_content(&job), body, "{case}");
    }
}

#[test]
fn segments_are_at_least_a_mebibyte_and_files_from_2_mib_use_several() {
    for (len, several) in [(2 * MIB - 1, false), (2 * MIB, true), (100, false)] {
        let body = content(4, len);
        let server = SegmentServer::with("/f", body.clone());
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = segmented_job(&server, dir.path(), 16);
        assert!(attempts(&transport(), &job, 1)[0].is_ok());
        let requests = gets(&server);
        assert_eq!(requests.len() > 1, several, "{len}: {requests:#?}");
        for later in &requests[1..] {
            assert!(later.planned.end - later.planned.start >= MIB as u64, "{later:?}");
        }
        assert_eq!(completed_content(&job), body);
    }
}

#[test]
fn one_connection_allowed_means_one_request_without_a_range() {
    let body = content(5, 4 * MIB);
    let server = SegmentServer::with("/f", body.clone());
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = segmented_job(&server, dir.path(), 1);
    assert!(attempts(&transport(), &job, 1)[0].is_ok());
    let requests = gets(&server);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].range, None, "0.1 behaviour: a plain GET");
    assert_eq!(completed_content(&job), body);
}

#[test]
fn a_validator_change_mid_way_restarts_the_file_once_and_never_splices() {
    let old = content(6, 6 * MIB);
    let new = content(7, 6 * MIB);
    let server = SegmentServer::with("/f", old);
    server.set_bandwidth_per_connection(Some(4 * MIB as u64));
    // The first two requests see the old content; the third (a segment) sees the new one.
    server.replace_after_requests("/f", 2, new.clone());
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = segmented_job(&server, dir.path(), 4);
    let sampler = Sampler::start(&job, true);
    let results = attempts(&transport(), &job, 1);
    let (_, backwards) = sampler.finish();
    assert!(results[0].is_ok(), "{results:?}");
    let requests = gets(&server);
    let fresh: Vec<&Logged> = requests.iter().filter(|r| r.if_range.is_none()).collect();
    assert_eq!(fresh.len(), 2, "the first request, and one after the change: {requests:#?}");
    assert!(requests.iter().any(|r| r.status == 200), "If-Range saw the change");
    assert!(backwards <= 1, "one restart");
    let after: Vec<&Logged> = requests.iter().skip_while(|r| r.seq < fresh[1].seq).collect();
    assert!(after.iter().all(|r| r.version == 2), "nothing of version 1 after the restart");
    assert_eq!(completed_content(&job), new);
}

#[test]
fn connections_cut_at_random_are_retried_and_the_result_is_exact() {
    for seed in 1..=3 {
        let body = content(10 + seed, 6 * MIB + 777);
        let server = SegmentServer::with("/f", body.clone());
        server.set_cuts(0.4, seed);
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = segmented_job(&server, dir.path(), 4);
        let sampler = Sampler::start(&job, false);
        let results = attempts(&transport(), &job, 30);
        sampler.finish();
        assert!(results.last().unwrap().is_ok(), "seed {seed}: {results:?}");
        assert!(gets(&server).iter().any(|r| r.cut), "seed {seed}: something was cut");
        assert_eq!(job.get_progress().bytes_transferred, body.len() as u64);
        assert_eq!(completed_content(&job), body, "seed {seed}");
    }
}

/// Runs `act` on `job` (from another thread) once `bytes` of it are counted.
fn at_bytes(
    job: &Job,
    bytes: u64,
    act: impl FnOnce(&Job) + Send + 'static,
) -> thread::JoinHandle<()> {
    let job = job.clone();
    thread::spawn(move || {
        while job.get_progress().bytes_transferred < bytes {
            thread::sleep(Duration::from_millis(2));
        }
        act(&job);
    })
}

/// Suspends `job` once `bytes` of it are counted.
fn suspend_at(job: &Job, bytes: u64) -> thread::JoinHandle<()> {
    at_bytes(job, bytes, |job| job.suspend().unwrap())
}

#[test]
fn a_suspended_segmented_file_resumes_at_the_ranges_it_holds() {
    let body = content(20, 8 * MIB);
    let server = SegmentServer::with("/f", body.clone());
    server.set_bandwidth_per_connection(Some(2 * MIB as u64));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = segmented_job(&server, dir.path(), 4);
    let suspender = suspend_at(&job, 3 * MIB as u64);
    let first = attempt(&transport(), &job);
    suspender.join().unwrap();
    assert!(matches!(first, Err(TransferError::Stopped)), "{first:?}");
    let held = job.get_progress().bytes_transferred;
    assert!(held >= 3 * MIB as u64 && held < body.len() as u64);
    // Still capped, so that what an open-ended answer sends past its range is small.
    server.set_bandwidth_per_connection(Some(4 * MIB as u64));
    let before = gets(&server).len();
    job.resume().unwrap();
    let sampler = Sampler::start(&job, false);
    let second = attempts(&transport(), &job, 1);
    sampler.finish();
    assert!(second[0].is_ok(), "{second:?}");
    let resumed = &gets(&server)[before..];
    assert!(resumed.iter().all(|r| r.if_range.is_some()), "{resumed:#?}");
    // The second attempt asked again only for bytes it did not count: blocks cut half-way
    // at the suspend (at most one per connection), and what the open-ended first requests
    // sent past their ranges.
    let again = server.bytes_fetched_twice("/f");
    let log: Vec<_> = gets(&server).iter().map(|r| (r.range.clone(), r.sent(), r.cut)).collect();
    assert!(again < 2 * MIB as u64, "{again} bytes fetched twice (held {held}): {log:#?}");
    assert_eq!(completed_content(&job), body);
}

#[test]
fn a_file_with_holes_continued_on_one_connection_fetches_only_the_holes() {
    let body = content(21, 8 * MIB);
    let server = SegmentServer::with("/f", body.clone());
    server.set_bandwidth_per_connection(Some(2 * MIB as u64));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = segmented_job(&server, dir.path(), 4);
    let suspender = suspend_at(&job, 3 * MIB as u64);
    assert!(attempt(&transport(), &job).is_err());
    suspender.join().unwrap();
    let before = gets(&server).len();
    let twice = server.bytes_fetched_twice("/f");
    job.set_max_connections(1).unwrap();
    job.resume().unwrap();
    let sampler = Sampler::start(&job, false);
    let second = attempt(&transport(), &job);
    sampler.finish();
    assert!(second.is_ok(), "{second:?}");
    let resumed = &gets(&server)[before..];
    assert!(resumed.len() >= 2, "one range per hole: {resumed:#?}");
    assert!(resumed.iter().all(|r| r.if_range.is_some()), "{resumed:#?}");
    // One after another, never two at once.
    assert!(resumed.windows(2).all(|w| w[0].connection == w[1].connection || !w[1].cut));
    // Only the first (open-ended) answer runs past its hole, by what was in flight.
    assert!(server.bytes_fetched_twice("/f") - twice < MIB as u64);
    assert_eq!(job.get_progress().bytes_transferred, body.len() as u64);
    assert_eq!(completed_content(&job), body);
}

#[test]
fn a_file_with_holes_on_a_server_without_bounded_ranges_counts_each_byte_once() {
    use http_support::{Resource, Server};
    let body = content(24, 8 * MIB);
    let resource = Resource::new(body.clone(), "same");
    let bounded_ok = Arc::new(AtomicBool::new(true));
    let server = {
        let bounded_ok = Arc::clone(&bounded_ok);
        Server::start(move |r| {
            if r.bounded_range().is_some() && !bounded_ok.load(Ordering::Relaxed) {
                return resource.full();
            }
            resource.respond(r).pace(64 * 1024, Duration::from_millis(20))
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    job.set_max_connections(4).unwrap();
    let suspender = suspend_at(&job, 3 * MIB as u64);
    assert!(attempt(&transport(), &job).is_err());
    suspender.join().unwrap();
    // Now bounded ranges get the whole body: the holes are filled by one connection that
    // writes straight on over the ranges already there, counting only the holes.
    bounded_ok.store(false, Ordering::Relaxed);
    job.resume().unwrap();
    let sampler = Sampler::start(&job, false);
    let results = attempts(&transport(), &job, 1);
    sampler.finish();
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(job.get_progress().bytes_transferred, body.len() as u64);
    assert_eq!(completed_content(&job), body);
}

#[test]
fn the_connection_count_is_never_exceeded_and_a_lower_one_applies_at_the_next_range() {
    let body = content(22, 12 * MIB);
    let server = SegmentServer::with("/f", body.clone());
    server.set_bandwidth_per_connection(Some(4 * MIB as u64));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = segmented_job(&server, dir.path(), 3);
    let lowering = at_bytes(&job, 4 * MIB as u64, |job| job.set_max_connections(1).unwrap());
    assert!(attempts(&transport(), &job, 1)[0].is_ok());
    lowering.join().unwrap();
    assert!(server.max_concurrent_responses() <= 3);
    // (That no range is handed out beyond the new count is checked on the sink itself:
    // tests/jobs/limits.rs, a_lowered_connection_count_holds_back_the_next_range.)
    assert_eq!(completed_content(&job), body);
}

#[test]
fn the_engine_fetches_in_segments() {
    let body = content(23, 6 * MIB);
    let server = SegmentServer::with("/f", body.clone());
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().build();
    let job = manager.create_job("segments", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.add_file(&server.url("/f"), &dir.path().join("out.bin")).unwrap();
    job.set_max_connections(4).unwrap();
    job.resume().unwrap();
    assert_eq!(job.wait(Duration::from_secs(60)), BgJobState::Transferred);
    assert!(gets(&server).len() >= 2);
    assert_eq!(completed_content(&job), body);
}

#[test]
fn many_files_with_segments_each_byte_identical() {
    let server = SegmentServer::start();
    let bodies: Vec<Vec<u8>> = (0..3).map(|i| content(30 + i, 3 * MIB + i as usize)).collect();
    for (i, body) in bodies.iter().enumerate() {
        server.add(&format!("/f{i}"), body.clone());
    }
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("several", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    for i in 0..3 {
        job.add_file(&server.url(&format!("/f{i}")), &dir.path().join(format!("{i}.bin"))).unwrap();
    }
    job.set_max_connections(2).unwrap();
    job.resume().unwrap();
    assert!(attempts(&transport(), &job, 1)[0].is_ok());
    job.complete().unwrap();
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(&std::fs::read(dir.path().join(format!("{i}.bin"))).unwrap(), body);
    }
}

#[test]
fn a_server_that_ignores_bounded_ranges_gets_one_connection_without_a_restart() {
    use http_support::{Resource, Server};
    let body = content(40, 4 * MIB);
    let resource = Resource::new(body.clone(), "same");
    // Open-ended ranges are honoured, bounded ones answered with the whole body.
    let server = Server::start(move |r| match r.bounded_range() {
        Some(_) => resource.full(),
        None => resource.respond(r),
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    job.set_max_connections(4).unwrap();
    let sampler = Sampler::start(&job, false);
    let results = attempts(&transport(), &job, 1);
    sampler.finish();
    assert!(results[0].is_ok(), "{results:?}");
    let requests = server.requests();
    assert!(requests.iter().any(|r| r.bounded_range().is_some()), "segments were tried");
    let last = requests.last().unwrap();
    assert!(last.range_start().is_some() && last.header("if-range").is_some(), "{last:?}");
    assert_eq!(completed_content(&job), body);
}

#[test]
fn connections_raised_while_one_connection_runs_join_at_the_next_check() {
    let body = content(41, 24 * MIB);
    let server = SegmentServer::with("/f", body.clone());
    server.set_bandwidth_per_connection(Some(8 * MIB as u64));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = segmented_job(&server, dir.path(), 1);
    let raising = at_bytes(&job, 2 * MIB as u64, |job| job.set_max_connections(4).unwrap());
    let sampler = Sampler::start(&job, false);
    let results = attempts(&transport(), &job, 1);
    sampler.finish();
    raising.join().unwrap();
    assert!(results[0].is_ok(), "{results:?}");
    let requests = gets(&server);
    assert_eq!(requests[0].range, None, "one connection at first: a plain GET");
    assert!(server.max_concurrent_responses() >= 3, "{requests:#?}");
    assert!(requests[1..].iter().all(|r| r.if_range.is_some()), "{requests:#?}");
    assert_eq!(completed_content(&job), body);
}

#[test]
fn an_idle_connection_takes_over_half_of_a_slow_connections_range() {
    let body = content(42, 8 * MIB);
    let server = SegmentServer::with("/f", body.clone());
    // The first connection (the range from 0, the first half of the file) is slow; the other
    // one is not capped, so it is done with its half long before and then idle.
    server.set_bandwidth_of_connection(0, Some(256 * 1024));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = segmented_job(&server, dir.path(), 2);
    let half = 4 * MIB as u64;
    // A range starting inside the slow connection's half, asked on another connection.
    let taken_over = |gets: &[Logged]| {
        let slow = gets.first()?.connection;
        gets.iter()
            .find(|r| r.connection != slow && r.planned.start > 0 && r.planned.start < half)
            .cloned()
    };
    let sampler = Sampler::start(&job, false);
    let (results, takeover) = thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            // Once the take-over is seen, the slow connection is let go (so the test does not
            // wait 16 s for it); without one, when the file is done or after a minute.
            let deadline = Instant::now() + Duration::from_secs(60);
            let seen = loop {
                if let Some(found) = taken_over(&gets(&server)) {
                    break Some(found);
                }
                let done = job.get_progress().bytes_transferred == body.len() as u64;
                if done || Instant::now() > deadline {
                    break None;
                }
                thread::sleep(Duration::from_millis(10));
            };
            server.set_bandwidth_of_connection(0, None);
            seen
        });
        let results = attempts(&transport(), &job, 1);
        (results, watcher.join().unwrap())
    });
    sampler.finish();
    assert!(results[0].is_ok(), "{results:?}");
    let requests = gets(&server);
    assert_eq!(requests[0].connection, 0, "the slowed connection carried the first range");
    let takeover = takeover.unwrap_or_else(|| panic!("no take-over: {requests:#?}"));
    assert_eq!(takeover.status, 206, "{takeover:?}");
    assert!(takeover.if_range.is_some(), "{takeover:?}");
    assert_eq!(job.get_progress().bytes_transferred, body.len() as u64);
    assert_eq!(completed_content(&job), body);
}

/// R3: a server whose `206` to `Range: bytes=0-` carries `Last-Modified` but no `ETag` and no
/// `Date` (or a `Date` in the same second) has no validator `If-Range` may use: the first
/// answer holds the whole file and is taken on that one connection, not judged against a
/// validator that was never sent.
#[test]
fn a_206_with_only_a_weak_last_modified_is_taken_on_one_connection() {
    use http_support::{Reply, Server};
    const LM: &str = "Tue, 01 Jul 2025 10:00:00 GMT";
    for date in [None, Some(LM), Some("Tuesday, 01-Jul-25 10:00:00 GMT")] {
        let body = content(21, 3 * MIB + 17);
        let served = body.clone();
        let server = Server::start(move |request| {
            let len = served.len();
            let mut reply = match request.range_start() {
                Some(0) => Reply::new(206)
                    .header("Content-Range", format!("bytes 0-{}/{len}", len - 1))
                    .body(served.clone()),
                Some(_) => Reply::new(416).header("Content-Range", format!("bytes */{len}")),
                None => Reply::new(200).body(served.clone()),
            };
            reply = reply.header("Last-Modified", LM);
            if let Some(date) = date {
                reply = reply.header("Date", date);
            }
            reply
        });
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_for(dir.path(), &server.url("/f"));
        job.set_max_connections(2).unwrap();
        let results = attempts(&transport(), &job, 3);
        assert!(results[0].is_ok(), "{date:?}: {results:?}");
        assert_eq!(job.get_state(), BgJobState::Transferred, "{date:?}");
        let requests = server.requests();
        assert_eq!(requests.len(), 1, "{date:?}: {requests:#?}");
        assert_eq!(requests[0].header("if-range"), None);
        assert_eq!(completed_content(&job), body, "{date:?}");
    }
}
