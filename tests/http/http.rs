//! The `http` transport against a loopback server that injects faults: cut connections, servers
//! that ignore `Range`, change the content mid-transfer, lie in `Content-Range`, send more than
//! announced, fail with 4xx/5xx, or stall. Driven through the driver API (no engine), so every
//! attempt and its outcome is visible.

use crate::http_support;
use crate::tls;

use bgcopy::clock::ManualClock;
use bgcopy::transport::{HttpTransport, TransferError, TransferRequest, Transport};
use bgcopy::*;
use http_support::*;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn content(seed: u64, len: usize) -> Vec<u8> {
    Rng::new(seed).bytes(len)
}

fn error_of(job: &Job) -> (BgErrorContext, u32, String) {
    let error = job.get_error().expect("an error is recorded");
    let (context, code) = error.get_error();
    (context, code, error.get_protocol().expect("protocol"))
}

/// How a server in the random-cut trials behaves, besides being cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Personality {
    /// Correct, strong ETag.
    Correct,
    /// Correct, `Last-Modified` only.
    DateOnly,
    /// Correct, chunked bodies (size unknown until a 206 states it).
    Chunked,
    /// Ignores `Range`: always a full 200.
    IgnoresRange,
    /// The content changes after the first request (new ETag; `If-Range` then gets a 200).
    ChangesContent,
    /// Its first 206 states a `Content-Range` one byte off.
    LiesOnce,
}

const PERSONALITIES: [Personality; 6] = [
    Personality::Correct,
    Personality::DateOnly,
    Personality::Chunked,
    Personality::IgnoresRange,
    Personality::ChangesContent,
    Personality::LiesOnce,
];

#[test]
fn cuts_at_random_offsets_never_corrupt_the_result() {
    const TRIALS: u64 = 120;
    let transport = transport();
    let dir = tempfile::tempdir().unwrap();
    let (mut cuts, mut ranged, mut fresh, mut corrupted, mut attempts_made) = (0, 0, 0, 0, 0);
    for trial in 0..TRIALS {
        let personality = PERSONALITIES[trial as usize % PERSONALITIES.len()];
        let mut rng = Rng::new(1000 + trial);
        let size = rng.range(64 * 1024, 256 * 1024) as usize;
        let mut v1 = Resource::new(rng.bytes(size), &format!("v{trial}"));
        if personality == Personality::DateOnly {
            v1.etag = None;
            v1.last_modified = Some(LAST_MODIFIED.to_owned());
        }
        let size2 = rng.range(64 * 1024, 256 * 1024) as usize;
        let v2 = Resource::new(rng.bytes(size2), "v2");
        let expected =
            if personality == Personality::ChangesContent { &v2 } else { &v1 }.content.clone();
        let planned_cuts = rng.range(1, 4);
        cuts += planned_cuts;
        let plan = Mutex::new((rng.clone(), planned_cuts, false));
        let server = Server::start(move |request| {
            let mut plan = plan.lock();
            let mut reply = match personality {
                Personality::IgnoresRange => v1.full(),
                Personality::ChangesContent if request.seq > 0 => v2.respond(request),
                Personality::LiesOnce if request.range_start().is_some() && !plan.2 => {
                    plan.2 = true;
                    let start = request.range_start().unwrap_or(0) + 1;
                    let len = v1.content.len() as u64;
                    v1.partial(start.min(len - 1))
                }
                _ => v1.respond(request),
            };
            if personality == Personality::Chunked {
                reply = reply.framing(Framing::Chunked);
            }
            if plan.1 > 0 {
                plan.1 -= 1;
                // Anywhere in the response; one cut in four inside or just after its head.
                let end = if plan.0.range(0, 4) == 0 { 400 } else { reply.body.len() as u64 + 300 };
                let at = plan.0.range(0, end) as usize;
                reply = reply.cut_after(at);
            }
            reply
        });
        let sub = dir.path().join(format!("t{trial}"));
        std::fs::create_dir(&sub).unwrap();
        let (_manager, job) = job_for(&sub, &server.url("/file.bin"));
        let results = attempts(&transport, &job, 10);
        attempts_made += results.len();
        assert!(results.last().unwrap().is_ok(), "trial {trial} {personality:?}: {results:?}");
        for result in &results[..results.len() - 1] {
            let error = result.as_ref().unwrap_err();
            assert!(error.is_transient(), "trial {trial} {personality:?}: {error:?}");
        }
        let progress = job.get_progress();
        let len = expected.len() as u64;
        assert_eq!(progress.bytes_transferred, len, "trial {trial} {personality:?}: counted once");
        assert_eq!(progress.bytes_total, len);
        let requests = server.requests();
        ranged += requests.iter().filter(|r| r.range_start().is_some()).count();
        fresh += requests.iter().skip(1).filter(|r| r.range_start().is_none()).count();
        if completed_content(&job) != expected {
            corrupted += 1;
        }
    }
    println!(
        "fault injection (random cuts, 6 server behaviours): {TRIALS} trials, {cuts} cuts, \
         {attempts_made} attempts, {ranged} range requests, {fresh} requests from zero after the \
         first, {corrupted} corrupted results"
    );
    assert_eq!(corrupted, 0);
}

#[test]
fn first_request_asks_for_identity_encoding_and_no_range() {
    let server = Resource::new(content(1, 1000), "a").serve();
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    attempt(&transport(), &job).unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.header("accept-encoding"), Some("identity"));
    assert_eq!(request.header("range"), None);
    assert!(request.header("user-agent").is_some_and(|ua| ua.starts_with("bgcopy/")));
    assert_eq!(completed_content(&job), content(1, 1000));
}

#[test]
fn custom_headers_arrive_at_the_server() {
    let server = Resource::new(content(2, 100), "a").serve();
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    job.set_custom_headers(&[("X-Token", "s3cret"), ("X-Multi", "1"), ("X-Multi", "2")]).unwrap();
    job.set_custom_headers(&[("Authorization", "Bearer t"), ("X-Trace", "ünï")]).unwrap();
    attempt(&transport(), &job).unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.header("authorization"), Some("Bearer t"));
    assert_eq!(request.header("x-token"), None, "set_custom_headers replaces");
    assert!(
        request.headers.iter().any(|(n, v)| n == "x-trace" && v.as_bytes() == "ünï".as_bytes())
    );
}

#[test]
fn custom_headers_setters_validate_and_follow_the_state_rules() {
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("h", BgJobType::Download).unwrap();
    assert_eq!(job.get_custom_headers().unwrap(), Vec::<(String, String)>::new());
    let invalid = job.set_custom_headers(&[("X-A", "ok"), ("Bad Name", "v")]).unwrap_err();
    assert_eq!(invalid.hresult(), hresult::E_INVALIDARG);
    assert!(job.get_custom_headers().unwrap().is_empty(), "all or nothing");
    for bad in [("X", "a\r\nInjected: 1"), ("X", "a\nb"), ("Range", "bytes=0-"), ("", "v")] {
        assert_eq!(job.set_custom_headers(&[bad]).unwrap_err().hresult(), hresult::E_INVALIDARG);
    }
    let long = "v".repeat(20_000);
    assert_eq!(
        job.set_custom_headers(&[("X-Long", &long)]).unwrap_err().hresult(),
        hresult::BG_E_STRING_TOO_LONG
    );
    job.set_custom_headers(&[("X-A", "1")]).unwrap();
    job.set_custom_headers(&[]).unwrap();
    assert!(job.get_custom_headers().unwrap().is_empty());
    assert_eq!(
        job.set_http_timeouts(Some(Duration::ZERO), None).unwrap_err().hresult(),
        hresult::E_INVALIDARG
    );
    job.set_http_timeouts(Some(Duration::from_secs(3)), None).unwrap();
    assert_eq!(job.get_http_timeouts(), (Some(Duration::from_secs(3)), None));
    job.cancel().unwrap();
    for result in [
        job.set_custom_headers(&[("X-A", "1")]),
        job.set_custom_headers(&[]),
        job.set_http_timeouts(None, None),
    ] {
        assert_eq!(result.unwrap_err().hresult(), hresult::BG_E_INVALID_STATE);
    }
}

#[test]
fn server_ignoring_range_restarts_the_file_from_zero() {
    let expected = content(3, 100_000);
    let resource = Resource::new(expected.clone(), "a");
    let server = Server::start(move |r| {
        // Always the full body, whatever the Range; the first one cut halfway.
        let reply = resource.full();
        if r.seq == 0 { reply.cut_after(50_000) } else { reply }
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    let first = attempt(&transport(), &job).unwrap_err();
    assert!(first.is_transient());
    let held = job.get_progress().bytes_transferred;
    assert!(held > 0 && held < 100_000, "{held}");
    job.retry_now().unwrap();
    attempt(&transport(), &job).unwrap();
    let requests = server.requests();
    assert_eq!(requests[1].range_start(), Some(held), "resume was asked for");
    assert_eq!(job.get_progress().bytes_transferred, 100_000, "no double count after the 200");
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn changed_etag_mid_transfer_gives_the_new_content_whole() {
    let old = content(4, 80_000);
    let new = content(5, 90_000);
    let (v1, v2) = (Resource::new(old, "v1"), Resource::new(new.clone(), "v2"));
    let server = Server::start(move |r| {
        if r.seq == 0 {
            v1.full().cut_after(40_000)
        } else {
            v2.respond(r) // If-Range "v1" does not match: a full 200 of v2
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    let results = attempts(&transport(), &job, 5);
    assert_eq!(results.len(), 2);
    assert_eq!(server.requests()[1].header("if-range"), Some("\"v1\""));
    assert_eq!(job.get_progress().bytes_total, 90_000);
    assert_eq!(completed_content(&job), new);
}

#[test]
fn partial_response_naming_another_etag_is_not_appended() {
    // A server that ignores If-Range: 206 from the offset, but of the new content.
    let old = content(6, 80_000);
    let new = content(7, 80_000);
    let (v1, v2) = (Resource::new(old, "v1"), Resource::new(new.clone(), "v2"));
    let server = Server::start(move |r| match (r.seq, r.range_start()) {
        (0, _) => v1.full().cut_after(30_000),
        (_, Some(start)) => v2.partial(start),
        (_, None) => v2.full(),
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    attempts(&transport(), &job, 5);
    let requests = server.requests();
    assert!(requests[1].range_start().is_some());
    assert_eq!(requests[2].range_start(), None, "started over after the mismatch");
    assert_eq!(completed_content(&job), new);
}

#[test]
fn wrong_content_range_is_never_appended() {
    let expected = content(8, 60_000);
    for (case, lie) in ["from zero", "one past", "other total", "length mismatch", "missing"]
        .into_iter()
        .enumerate()
    {
        let resource = Resource::new(expected.clone(), "a");
        let server = Server::start(move |r| match (r.seq, r.range_start()) {
            (0, _) => resource.full().cut_after(20_000),
            (_, Some(start)) => {
                let len = resource.content.len() as u64;
                let body = resource.content[start as usize..].to_vec();
                let reply = Reply::new(206).header("ETag", "\"a\"");
                match case {
                    0 => reply
                        .header("Content-Range", format!("bytes 0-{}/{len}", len - 1))
                        .body(body),
                    1 => reply
                        .header("Content-Range", format!("bytes {}-{}/{len}", start + 1, len - 1))
                        .body(body),
                    2 => reply
                        .header("Content-Range", format!("bytes {start}-{}/{}", len - 1, len + 5))
                        .body(body),
                    3 => reply
                        .header("Content-Range", format!("bytes {start}-{}/{len}", len - 2))
                        .body(body),
                    _ => reply.body(body),
                }
            }
            (_, None) => resource.full(),
        });
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_for(dir.path(), &server.url("/f"));
        let results = attempts(&transport(), &job, 5);
        assert!(results.last().unwrap().is_ok(), "{lie}: {results:?}");
        assert_eq!(server.requests()[2].range_start(), None, "{lie}: started over");
        assert_eq!(completed_content(&job), expected, "{lie}");
    }
}

#[test]
fn unsatisfiable_range_restarts_from_zero() {
    let expected = content(9, 30_000);
    let resource = Resource::new(expected.clone(), "a");
    let server = Server::start(move |r| match (r.seq, r.range_start()) {
        (0, _) => resource.full().cut_after(10_000),
        (_, Some(_)) => Reply::new(416).header("Content-Range", "bytes */30000"),
        (_, None) => resource.full(),
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    let results = attempts(&transport(), &job, 5);
    assert_eq!(results.len(), 2);
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn partial_body_longer_than_its_range_is_refused_unwritten() {
    let expected = content(10, 50_000);
    let resource = Resource::new(expected.clone(), "a");
    let server = Server::start(move |r| match (r.seq, r.range_start()) {
        (0, _) => resource.full().cut_after(20_000),
        (1, Some(start)) => {
            // A chunked 206 that goes on past the total its Content-Range announced.
            let mut body = resource.content[start as usize..].to_vec();
            body.extend_from_slice(&[0xEE; 5000]);
            resource.partial(start).body(body).framing(Framing::Chunked)
        }
        _ => resource.respond(r),
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    let results = attempts(&transport(), &job, 5);
    let refused = results[1].as_ref().unwrap_err();
    assert_eq!(refused.hresult(), hresult::BG_E_INVALID_SERVER_RESPONSE);
    assert!(refused.is_transient());
    assert!(results.last().unwrap().is_ok());
    let temp_len = job.get_progress().bytes_transferred;
    assert_eq!(temp_len, 50_000, "never past the total");
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn body_longer_than_content_length_is_cut_at_the_announced_length() {
    let expected = content(11, 40_000);
    let server = Server::start({
        let expected = expected.clone();
        move |_| {
            let mut body = expected.clone();
            body.extend_from_slice(b"TRAILING GARBAGE");
            Reply::new(200).header("ETag", "\"a\"").body(body).framing(Framing::LengthOf(40_000))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    attempt(&transport(), &job).unwrap();
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn not_found_is_fatal_with_http_hresult_and_remote_context() {
    let server = Server::start(|_| Reply::new(404).body("nope"));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/missing"));
    let error = attempt(&transport(), &job).unwrap_err();
    assert!(!error.is_transient());
    assert_eq!(job.get_state(), BgJobState::Error);
    let (context, code, protocol) = error_of(&job);
    assert_eq!(
        (context, code, protocol.as_str()),
        (BgErrorContext::RemoteFile, 0x8019_0194, "http")
    );
}

#[test]
fn server_errors_500_and_503_are_transient() {
    for status in [500u16, 503] {
        let resource = Resource::new(content(12, 1000), "a");
        let server =
            Server::start(
                move |r| if r.seq == 0 { Reply::new(status) } else { resource.respond(r) },
            );
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_for(dir.path(), &server.url("/f"));
        assert!(attempt(&transport(), &job).is_err());
        assert_eq!(job.get_state(), BgJobState::TransientError);
        let (context, code, protocol) = error_of(&job);
        assert_eq!(code, 0x8019_0000 + u32::from(status));
        assert_eq!((context, protocol.as_str()), (BgErrorContext::RemoteFile, "http"));
        job.retry_now().unwrap();
        attempt(&transport(), &job).unwrap();
        assert_eq!(completed_content(&job), content(12, 1000));
    }
}

#[test]
fn retry_after_seconds_on_503_give_a_transient_error_that_says_the_wait() {
    let resource = Resource::new(content(14, 1000), "a");
    let server = Server::start(move |r| {
        if r.seq == 0 { Reply::new(503).header("Retry-After", "7") } else { resource.respond(r) }
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    let error = attempt(&transport(), &job).unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(error.hresult(), 0x8019_01F7);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(job.get_state(), BgJobState::TransientError);
    job.retry_now().unwrap();
    attempt(&transport(), &job).unwrap();
    assert_eq!(completed_content(&job), content(14, 1000));
}

#[test]
fn retry_after_date_on_429_counts_from_the_response_date() {
    // DATE is 2025-07-02 10:00:00 GMT; the local clock is a year or more later and must not
    // matter: the server's clock is the reference.
    for (value, wait) in [
        ("Wed, 02 Jul 2025 10:01:30 GMT", 90),
        ("Wednesday, 02-Jul-25 10:00:05 GMT", 5),
        ("Wed Jul  2 10:10:00 2025", 600),
        ("Tue, 01 Jul 2025 10:00:00 GMT", 0),
    ] {
        let server = Server::start(move |_| {
            Reply::new(429).header("Date", DATE).header("Retry-After", value)
        });
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_for(dir.path(), &server.url("/f"));
        let error = attempt(&transport(), &job).unwrap_err();
        assert!(error.is_transient(), "{error:?}");
        assert_eq!(error.hresult(), 0x8019_01AD);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(wait)), "{value}");
        assert_eq!(job.get_state(), BgJobState::TransientError);
    }
}

#[test]
fn retry_after_is_ignored_when_unusable_or_on_other_statuses() {
    for (status, value) in [(503u16, "soon"), (503, "-1"), (500, "7"), (404, "7")] {
        let server = Server::start(move |_| Reply::new(status).header("Retry-After", value));
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_for(dir.path(), &server.url("/f"));
        let error = attempt(&transport(), &job).unwrap_err();
        assert_eq!(error.retry_after(), None, "{status} {value}");
        assert_eq!(error.hresult(), 0x8019_0000 + u32::from(status));
    }
}

#[test]
fn retry_after_on_the_head_of_a_complete_file_reaches_the_error() {
    let resource = Resource::new(content(15, 1000), "a");
    let head_busy = Arc::new(Mutex::new(true));
    let busy = Arc::clone(&head_busy);
    let server = Server::start(move |r| {
        if r.method == "HEAD" && *busy.lock() {
            return Reply::new(503).header("Retry-After", "42");
        }
        resource.respond(r)
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    let transport = transport();
    {
        // Every byte arrives, then the attempt fails before finishing the file.
        let driver = job.claim().unwrap();
        driver.connected().unwrap();
        let mut sink = driver.open_file(0).unwrap();
        let file = sink.file();
        transport.transfer(&TransferRequest::new(&job, &file), &mut sink).unwrap();
        drop(sink);
        let cut = TransferError::transient(
            hresult::BG_E_CONNECTION_CLOSED,
            BgErrorContext::RemoteFile,
            "x",
        );
        driver.fail(cut, Some(0)).unwrap();
    }
    job.retry_now().unwrap();
    let error = attempt(&transport, &job).unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(42)));
    assert!(error.is_transient());
    *head_busy.lock() = false;
    job.retry_now().unwrap();
    attempt(&transport, &job).unwrap();
    assert_eq!(completed_content(&job), content(15, 1000));
}

#[test]
fn other_client_errors_are_fatal() {
    for status in [403u16, 410] {
        let server = Server::start(move |_| Reply::new(status));
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_for(dir.path(), &server.url("/f"));
        attempt(&transport(), &job).unwrap_err();
        assert_eq!(job.get_state(), BgJobState::Error);
        assert_eq!(error_of(&job).1, 0x8019_0000 + u32::from(status));
    }
}

#[test]
fn stalled_server_fails_transiently_after_the_read_timeout() {
    let resource = Resource::new(content(13, 20_000), "a");
    let server = Server::start(move |r| {
        let reply = resource.respond(r);
        if r.seq == 0 { reply.stall(5000, Duration::from_secs(3)) } else { reply }
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    job.set_http_timeouts(None, Some(Duration::from_millis(300))).unwrap();
    let error = attempt(&transport(), &job).unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(error.hresult(), hresult::ERROR_TIMEOUT_HR);
    assert_eq!(job.get_state(), BgJobState::TransientError);
    let held = job.get_progress().bytes_transferred;
    assert!(held > 0);
    job.retry_now().unwrap();
    attempt(&transport(), &job).unwrap();
    assert_eq!(server.requests()[1].range_start(), Some(held));
    assert_eq!(completed_content(&job), content(13, 20_000));
}

#[test]
fn refused_connection_is_transient() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &format!("http://127.0.0.1:{port}/f"));
    let error = attempt(&transport(), &job).unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(error.hresult(), hresult::BG_E_CONNECT_FAILURE);
    assert_eq!(error_of(&job).2, "http");
}

#[test]
fn connect_to_a_host_that_never_answers_fails_transient_at_the_connect_timeout() {
    let Some(hole) = http_support::blackhole::Blackhole::new() else {
        eprintln!("skipped: this system refuses connections past a full accept queue");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &hole.url("/f"));
    let transport =
        HttpTransport::new().with_timeouts(Duration::from_millis(300), Duration::from_secs(5));
    let started = Instant::now();
    let error = attempt(&transport, &job).unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(error.hresult(), hresult::ERROR_TIMEOUT_HR, "{error:?}");
    assert_eq!(job.get_state(), BgJobState::TransientError);
    assert_eq!(error_of(&job).0, BgErrorContext::GeneralTransport);
    // A sanity bound only: one 300 ms connect, not the 15 s default or a hang.
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn a_jobs_connect_timeout_bounds_a_connect_that_never_answers() {
    let Some(hole) = http_support::blackhole::Blackhole::new() else {
        eprintln!("skipped: this system refuses connections past a full accept queue");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &hole.url("/f"));
    job.set_http_timeouts(Some(Duration::from_millis(300)), None).unwrap();
    let transport = HttpTransport::new(); // the 15 s default is not what applies
    let started = Instant::now();
    let error = attempt(&transport, &job).unwrap_err();
    assert_eq!((error.hresult(), error.is_transient()), (hresult::ERROR_TIMEOUT_HR, true));
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn unresolvable_host_name_is_a_transient_error_within_the_resolve_timeout() {
    // `.invalid` never resolves (RFC 6761); where no DNS answers at all, the look-up times out.
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), "http://no-such-host.invalid/f");
    let transport = transport().with_resolve_timeout(Duration::from_secs(2));
    let started = Instant::now();
    let error = attempt(&transport, &job).unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert!(
        [hresult::BG_E_CONNECT_FAILURE, hresult::ERROR_TIMEOUT_HR].contains(&error.hresult()),
        "{error:?}"
    );
    assert_eq!(job.get_state(), BgJobState::TransientError);
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn host_names_are_looked_up_and_every_address_is_tried() {
    // `localhost` may resolve to ::1 first, where nothing listens: the next address serves.
    let server = Resource::new(content(16, 5000), "a").serve();
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &format!("http://localhost:{}/f", server.port()));
    let transport = transport().with_resolve_timeout(Duration::from_secs(2));
    attempt(&transport, &job).unwrap();
    assert_eq!(completed_content(&job), content(16, 5000));
}

#[test]
fn default_timeouts_are_interactive_resolve_10s_connect_15s_read_120s() {
    let debug = format!("{:?}", HttpTransport::new());
    for part in ["resolve_timeout: 10s", "connect_timeout: 15s", "read_timeout: 120s"] {
        assert!(debug.contains(part), "{debug}");
    }
    let debug = format!(
        "{:?}",
        HttpTransport::new()
            .with_timeouts(Duration::from_secs(1), Duration::from_secs(2))
            .with_resolve_timeout(Duration::ZERO)
    );
    for part in ["resolve_timeout: 1ms", "connect_timeout: 1s", "read_timeout: 2s"] {
        assert!(debug.contains(part), "{debug}");
    }
}

#[test]
fn chunked_body_keeps_the_size_unknown_until_its_end() {
    let expected = content(14, 70_000);
    let resource = Resource::new(expected.clone(), "a");
    let server = Server::start(move |r| {
        let reply = resource.respond(r).framing(Framing::Chunked);
        if r.seq == 0 { reply.cut_after(30_000) } else { reply }
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    attempt(&transport(), &job).unwrap_err();
    assert_eq!(job.get_progress().bytes_total, BG_SIZE_UNKNOWN);
    assert_eq!(job.enum_files()[0].get_progress().bytes_total, BG_SIZE_UNKNOWN);
    job.retry_now().unwrap();
    // The 206 states the complete length: the size is known from then on.
    attempt(&transport(), &job).unwrap();
    assert_eq!(job.get_progress().bytes_total, 70_000);
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn length_less_body_takes_its_size_at_the_end() {
    let expected = content(15, 12_345);
    let server = Server::start({
        let expected = expected.clone();
        move |_| Reply::new(200).body(expected.clone()).framing(Framing::Close)
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    attempt(&transport(), &job).unwrap();
    assert_eq!(job.get_progress().bytes_total, 12_345);
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn content_without_validator_is_restarted_not_resumed() {
    let expected = content(16, 50_000);
    let mut resource = Resource::new(expected.clone(), "a");
    resource.etag = None;
    let weak = Resource { etag: Some("W/\"weak\"".to_owned()), ..resource.clone() };
    for resource in [resource, weak] {
        let server = Server::start(move |r| {
            let reply = resource.respond(r);
            if r.seq == 0 { reply.cut_after(25_000) } else { reply }
        });
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_for(dir.path(), &server.url("/f"));
        attempts(&transport(), &job, 5);
        let second = &server.requests()[1];
        assert_eq!((second.header("range"), second.header("if-range")), (None, None));
        assert_eq!(completed_content(&job), expected);
    }
}

#[test]
fn file_already_complete_is_confirmed_with_head() {
    let expected = content(17, 10_000);
    let server = Resource::new(expected.clone(), "a").serve();
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    let transport = transport();
    {
        // Every byte arrives, then the attempt fails before finishing the file.
        let driver = job.claim().unwrap();
        driver.connected().unwrap();
        let mut sink = driver.open_file(0).unwrap();
        let file = sink.file();
        let request = TransferRequest::new(&job, &file);
        transport.transfer(&request, &mut sink).unwrap();
        drop(sink);
        let cut = TransferError::transient(
            hresult::BG_E_CONNECTION_CLOSED,
            BgErrorContext::RemoteFile,
            "x",
        );
        driver.fail(cut, Some(0)).unwrap();
    }
    job.retry_now().unwrap();
    attempt(&transport, &job).unwrap();
    let methods: Vec<String> = server.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["GET", "HEAD"]);
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn chunked_file_already_complete_is_confirmed_by_its_416() {
    let expected = content(23, 10_000);
    let resource = Resource::new(expected.clone(), "a");
    let server = Server::start(move |r| resource.respond(r).framing(Framing::Chunked));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    let transport = transport();
    {
        // Every byte arrives (size unknown: chunked), then the attempt fails before finishing.
        let driver = job.claim().unwrap();
        driver.connected().unwrap();
        let mut sink = driver.open_file(0).unwrap();
        let file = sink.file();
        let request = TransferRequest::new(&job, &file);
        transport.transfer(&request, &mut sink).unwrap();
        drop(sink);
        let cut = TransferError::transient(
            hresult::BG_E_CONNECTION_CLOSED,
            BgErrorContext::RemoteFile,
            "x",
        );
        driver.fail(cut, Some(0)).unwrap();
    }
    assert_eq!(job.get_progress().bytes_total, BG_SIZE_UNKNOWN);
    job.retry_now().unwrap();
    attempt(&transport, &job).unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "no second download");
    assert_eq!(requests[1].range_start(), Some(10_000));
    assert_eq!(job.get_progress().bytes_total, 10_000);
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn redirects_are_followed_with_the_range_kept() {
    let expected = content(18, 30_000);
    let resource = Resource::new(expected.clone(), "a");
    let server = Server::start(move |r| match r.target.as_str() {
        "/old" => Reply::new(301).header("Location", "/mid"),
        "/mid" => Reply::new(307).header("Location", "/file"),
        _ if r.seq == 2 => resource.respond(r).cut_after(10_000),
        _ => resource.respond(r),
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/old"));
    attempts(&transport(), &job, 5);
    let requests = server.requests();
    assert_eq!(requests.len(), 6);
    assert!(requests[5].range_start().is_some(), "{:?}", requests[5]);
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn redirect_loops_stop_at_the_limit_fatally() {
    let server = Server::start(|_| Reply::new(302).header("Location", "/again"));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/start"));
    let transport = transport().with_max_redirects(3);
    let error = attempt(&transport, &job).unwrap_err();
    assert!(!error.is_transient());
    assert_eq!(error.hresult(), 0x8019_012E);
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn credentials_are_not_sent_to_another_origin_after_a_redirect() {
    let target = Server::start(|_| Reply::new(200).header("ETag", "\"a\"").body("ok"));
    let location = target.url("/f");
    let origin = Server::start(move |_| Reply::new(302).header("Location", location.clone()));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &origin.url("/f"));
    job.set_custom_headers(&[("Authorization", "Bearer t"), ("X-Keep", "1")]).unwrap();
    attempt(&transport(), &job).unwrap();
    assert_eq!(origin.requests()[0].header("authorization"), Some("Bearer t"));
    let moved = &target.requests()[0];
    // No custom header at all crosses origins (R14), not only the credential ones.
    assert_eq!((moved.header("authorization"), moved.header("x-keep")), (None, None));
}

#[test]
fn proxy_override_tunnels_through_the_proxy_unless_bypassed() {
    let resource = Resource::new(content(19, 5000), "a");
    let origin = Server::start({
        let resource = resource.clone();
        move |r| resource.respond(r)
    });
    let proxy = Server::start(move |r| resource.respond(r));
    let proxy_list = format!("127.0.0.1:{}", proxy.port());
    let url = origin.url("/f");

    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &url);
    job.set_proxy_settings(BgJobProxyUsage::Override, Some(&proxy_list), Some("*.example.org"))
        .unwrap();
    attempt(&transport(), &job).unwrap();
    assert_eq!(origin.requests().len(), 0);
    let tunneled = &proxy.requests()[0];
    assert_eq!(tunneled.tunnel, Some(format!("127.0.0.1:{}", origin.port())));
    assert_eq!(completed_content(&job), content(19, 5000));

    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &url);
    job.set_proxy_settings(BgJobProxyUsage::Override, Some(&proxy_list), Some("other 127.0.0.*"))
        .unwrap();
    attempt(&transport(), &job).unwrap();
    assert_eq!(origin.requests().len(), 1, "bypassed: direct");
    assert_eq!(proxy.requests().len(), 1);
}

#[test]
fn unusable_proxy_list_is_a_fatal_invalid_proxy_info() {
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), "http://127.0.0.1:9/f");
    job.set_proxy_settings(BgJobProxyUsage::Override, Some("ftp=proxy:1"), None).unwrap();
    let error = attempt(&transport(), &job).unwrap_err();
    assert_eq!(error.hresult(), hresult::BG_E_INVALID_PROXY_INFO);
    assert_eq!(job.get_state(), BgJobState::Error);
}

#[test]
fn expected_sha256_mismatch_fails_fatally_and_restarts_the_file() {
    use sha2_digest::sha256;
    let expected = content(20, 33_333);
    let server = Resource::new(expected.clone(), "a").serve();
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    let file = job.enum_files()[0].clone();
    file.set_expected_sha256(Some([0u8; 32])).unwrap();
    let error = attempt(&transport(), &job).unwrap_err();
    assert_eq!(error.hresult(), hresult::BG_E_VALIDATION_FAILED);
    assert_eq!(job.get_state(), BgJobState::Error);
    assert_eq!(error_of(&job).0, BgErrorContext::RemoteFile);
    assert_eq!(file.get_progress().bytes_transferred, 0, "restarted from zero");
    assert_eq!(job.get_progress().files_transferred, 0);

    file.set_expected_sha256(Some(sha256(&expected))).unwrap();
    job.resume().unwrap();
    attempt(&transport(), &job).unwrap();
    assert_eq!(
        file.set_expected_sha256(None).unwrap_err().hresult(),
        hresult::BG_E_INVALID_STATE,
        "checked already"
    );
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn progress_snapshots_stay_consistent_while_resuming() {
    let expected = content(21, 200_000);
    let resource = Resource::new(expected.clone(), "a");
    let server = Server::start(move |r| {
        let reply = resource.respond(r);
        if r.seq < 3 { reply.cut_after(60_000) } else { reply }
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    let watcher = {
        let job = job.clone();
        let stop = Arc::new(Mutex::new(false));
        let stop2 = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let mut last = 0;
            let mut snapshots = 0u64;
            while !*stop2.lock() {
                let p = job.get_progress();
                assert!(p.is_consistent(), "{p:?}");
                // Resumes never restart here, so no counter goes backwards.
                assert!(p.bytes_transferred >= last, "{p:?} after {last}");
                last = p.bytes_transferred;
                snapshots += 1;
                std::thread::yield_now();
            }
            snapshots
        });
        (stop, handle)
    };
    let results = attempts(&transport(), &job, 10);
    *watcher.0.lock() = true;
    assert!(watcher.1.join().unwrap() > 0);
    assert_eq!(results.len(), 4);
    assert_eq!(completed_content(&job), expected);
}

/// SHA-256 for the digest test, from the same crate the library uses.
mod sha2_digest {
    pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(data).into()
    }
}

fn wait_for(job: &Job, states: &[BgJobState]) -> BgJobState {
    let state = job.wait_until(Duration::from_secs(60), |state| states.contains(&state));
    assert!(states.contains(&state), "stuck in {state:?}");
    state
}

#[test]
fn engine_retries_a_cut_download_and_resumes_it() {
    let expected = content(22, 150_000);
    let resource = Resource::new(expected.clone(), "a");
    let server = Server::start(move |r| {
        let reply = resource.respond(r);
        if r.seq == 0 { reply.cut_after(70_000) } else { reply }
    });
    let clock = Arc::new(ManualClock::new());
    let manager = Manager::builder().clock(clock.clone()).transport(Arc::new(transport())).build();
    let dir = tempfile::tempdir().unwrap();
    let job = manager.create_job("engine", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.add_file(&server.url("/f"), &dir.path().join("out.bin")).unwrap();
    job.resume().unwrap();
    assert_eq!(wait_for(&job, &[BgJobState::TransientError]), BgJobState::TransientError);
    let (context, code, protocol) = error_of(&job);
    assert_eq!(
        (context, code, protocol.as_str()),
        (BgErrorContext::RemoteFile, hresult::BG_E_CONNECTION_CLOSED, "http")
    );
    let held = job.get_progress().bytes_transferred;
    clock.advance(Duration::from_secs(600));
    assert_eq!(
        wait_for(&job, &[BgJobState::Transferred, BgJobState::Error]),
        BgJobState::Transferred
    );
    assert_eq!(server.requests()[1].range_start(), Some(held));
    assert_eq!(job.get_progress().bytes_transferred, 150_000);
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn engine_reports_not_found_as_a_fatal_error() {
    let server = Server::start(|_| Reply::new(404));
    let manager = Manager::builder().transport(Arc::new(transport())).build();
    let dir = tempfile::tempdir().unwrap();
    let job = manager.create_job("engine", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.add_file(&server.url("/gone"), &dir.path().join("out.bin")).unwrap();
    job.resume().unwrap();
    assert_eq!(wait_for(&job, &[BgJobState::Error, BgJobState::Transferred]), BgJobState::Error);
    let (context, code, protocol) = error_of(&job);
    assert_eq!(
        (context, code, protocol.as_str()),
        (BgErrorContext::RemoteFile, 0x8019_0194, "http")
    );
    assert_eq!(job.get_error().unwrap().get_file().unwrap().get_remote_name(), server.url("/gone"));
}

/// Issue 10: a `503` with `Retry-After` holds the next attempt back for as long as it says
/// (measured on the engine's clock), even with a shorter minimum retry delay; a wait shorter
/// than the minimum delay does not shorten it.
#[test]
fn engine_waits_as_long_as_retry_after_says_and_at_least_the_minimum_delay() {
    for (retry_after, min_delay, early, due) in [(30u64, 5u64, 20u64, 31u64), (2, 10, 5, 11)] {
        let body = content(23, 50_000);
        let server = segments::SegmentServer::with("/f", body.clone());
        server.set_retry_after(1, retry_after.to_string());
        let clock = Arc::new(ManualClock::new());
        let manager =
            Manager::builder().clock(clock.clone()).transport(Arc::new(transport())).build();
        let dir = tempfile::tempdir().unwrap();
        let job = manager.create_job("retry-after", BgJobType::Download).unwrap();
        job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
        job.set_minimum_retry_delay(Duration::from_secs(min_delay)).unwrap();
        job.add_file(&server.url("/f"), &dir.path().join("out.bin")).unwrap();
        job.resume().unwrap();
        assert_eq!(wait_for(&job, &[BgJobState::TransientError]), BgJobState::TransientError);
        assert_eq!(job.get_error().unwrap().get_error().1, 0x8019_01F7, "HTTP 503");
        // The scheduler has seen the failure (and timed its retry) before the clock moves, and
        // has looked at the job again at the new time before the check.
        manager.wait_engine_pass();
        clock.advance(Duration::from_secs(early));
        manager.wait_engine_pass();
        assert_eq!(job.get_state(), BgJobState::TransientError, "{retry_after} s not over yet");
        assert_eq!(server.requests().len(), 1);
        clock.advance(Duration::from_secs(due - early));
        assert_eq!(
            wait_for(&job, &[BgJobState::Transferred, BgJobState::Error]),
            BgJobState::Transferred
        );
        assert_eq!(completed_content(&job), body);
    }
}

/// R14: a `206` to a resume with `If-Range: <etag>` must repeat that ETag (RFC 9110 15.3.7); one
/// that leaves it out may come from a server that ignored `If-Range`, and is not appended.
#[test]
fn a_partial_response_without_the_etag_it_resumes_is_not_appended() {
    let old = content(40, 80_000);
    let new = content(41, 80_000);
    let v1 = Resource::new(old, "v1");
    let v2 = Resource::new(new.clone(), "v2");
    let mut anonymous = v2.clone();
    anonymous.etag = None;
    let server = Server::start(move |r| match (r.seq, r.range_start()) {
        (0, _) => v1.full().cut_after(30_000),
        // Ignores If-Range: a range of the new content, without its ETag.
        (_, Some(start)) => anonymous.partial(start),
        (_, None) => v2.full(),
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    attempts(&transport(), &job, 5);
    let requests = server.requests();
    assert_eq!(requests[1].header("if-range"), Some("\"v1\""));
    assert_eq!(requests[2].range_start(), None, "started over after the 206 without ETag");
    assert_eq!(completed_content(&job), new);
}

/// R14: a server that ignores `Accept-Encoding: identity` is refused with a fatal error; its
/// coded bytes are never stored as the file.
#[test]
fn a_content_encoding_other_than_identity_is_a_fatal_error() {
    for (status, coding) in [(200, "gzip"), (200, "br"), (206, "GZIP")] {
        let body = content(42, 5000);
        let served = body.clone();
        let server = Server::start(move |r| {
            let reply = match (status, r.range_start()) {
                (206, Some(0)) => Reply::new(206)
                    .header("Content-Range", format!("bytes 0-4999/{}", served.len()))
                    .header("ETag", "\"e\""),
                _ => Reply::new(200),
            };
            reply.header("Content-Encoding", coding).body(served.clone())
        });
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_for(dir.path(), &server.url("/f"));
        if status == 206 {
            job.set_max_connections(2).unwrap();
        }
        let error = attempt(&transport(), &job).unwrap_err();
        assert!(!error.is_transient(), "{coding}: {error:?}");
        assert_eq!(job.get_state(), BgJobState::Error, "{coding}");
        assert_eq!(
            error_of(&job),
            (BgErrorContext::RemoteFile, hresult::BG_E_INVALID_SERVER_RESPONSE, "http".into())
        );
        assert!(format!("{error:?}").contains(coding), "{error:?}");
        assert_eq!(job.get_progress().bytes_transferred, 0, "{coding}: no coded byte stored");
    }
    // `identity` is what was asked for: accepted.
    let body = content(43, 5000);
    let served = body.clone();
    let server = Server::start(move |_| {
        Reply::new(200).header("Content-Encoding", "identity").body(served.clone())
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &server.url("/f"));
    attempt(&transport(), &job).unwrap();
    assert_eq!(completed_content(&job), body);
}

/// R14: no custom header (credentials or not) follows a redirect to another origin.
#[test]
fn custom_headers_never_follow_a_redirect_to_another_origin() {
    let body = content(44, 3000);
    let target = Resource::new(body.clone(), "a").serve();
    let location = target.url("/moved");
    // A redirect on the same origin first (headers kept), then to the other origin.
    let first = Server::start(move |r| match r.target.as_str() {
        "/f" => Reply::new(302).header("Location", "/local"),
        _ => Reply::new(302).header("Location", location.clone()),
    });
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &first.url("/f"));
    job.set_custom_headers(&[
        ("X-Api-Key", "secret"),
        ("Authorization", "Bearer t"),
        ("Proxy-Authorization", "Basic x"),
        ("Cookie", "c=1"),
    ])
    .unwrap();
    attempt(&transport(), &job).unwrap();
    for sent in &first.requests()[..2] {
        assert_eq!(sent.header("x-api-key"), Some("secret"), "same origin: sent");
    }
    let requests = target.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        for name in ["x-api-key", "authorization", "proxy-authorization", "cookie"] {
            assert_eq!(request.header(name), None, "{name} reached the other origin");
        }
        assert!(request.headers.iter().all(|(_, v)| !v.contains("secret")), "{request:?}");
    }
    assert_eq!(completed_content(&job), body);
}

/// R14: conditional headers would turn a download into a `304` or `412`, and `Range` or
/// `If-Range` would break resuming: the transport owns them, so a job cannot set them.
#[test]
fn conditional_and_range_headers_are_reserved() {
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("h", BgJobType::Download).unwrap();
    for name in [
        "If-None-Match",
        "if-modified-since",
        "If-Match",
        "IF-UNMODIFIED-SINCE",
        "If-Range",
        "Range",
    ] {
        let error = job.set_custom_headers(&[("X-Ok", "1"), (name, "\"x\"")]).unwrap_err();
        assert_eq!(error.hresult(), hresult::E_INVALIDARG, "{name}");
        assert!(job.get_custom_headers().unwrap().is_empty(), "{name}");
    }
}

/// A plain-HTTP listener that answers anything, a TLS `ClientHello` too, with a `400` and
/// closes, as web servers do. Returns its port.
fn plain_http_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut tcp) = stream else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut tcp, &mut buf);
            let reply =
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            let _ = std::io::Write::write_all(&mut tcp, reply);
            // Close gently: wait for the client to go, so that no reset overtakes the answer.
            let _ = tcp.shutdown(std::net::Shutdown::Write);
            while std::io::Read::read(&mut tcp, &mut buf).is_ok_and(|n| n > 0) {}
        }
    });
    port
}

/// A certificate no root vouches for: fatal `DO_E_HTTP_CERT_VALIDATION` (retrying will not
/// make it trusted), context `RemoteFile`, with a readable reason.
#[test]
fn an_untrusted_certificate_is_a_fatal_certificate_error() {
    let port = tls::SelfSigned::start().port;
    for host in ["localhost", "127.0.0.1"] {
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_for(dir.path(), &format!("https://{host}:{port}/f"));
        let error = attempt(&transport(), &job).unwrap_err();
        assert!(!error.is_transient(), "{error:?}");
        assert_eq!(job.get_state(), BgJobState::Error);
        assert_eq!(
            error_of(&job),
            (BgErrorContext::RemoteFile, hresult::DO_E_HTTP_CERT_VALIDATION, "http".into())
        );
        let TransferError::Failed { message, .. } = &error else { panic!("{error:?}") };
        assert!(message.starts_with("the server's certificate is not trusted: "), "{message}");
    }
}

/// `https://` to a port that speaks plain HTTP: the handshake fails, a fatal
/// `DO_E_HTTP_CERT_VALIDATION` in context `RemoteFile` that says what happened.
#[test]
fn https_to_a_plain_http_port_is_a_fatal_tls_error() {
    let port = plain_http_port();
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(dir.path(), &format!("https://127.0.0.1:{port}/f"));
    let error = attempt(&transport(), &job).unwrap_err();
    assert!(!error.is_transient(), "{error:?}");
    assert_eq!(
        error_of(&job),
        (BgErrorContext::RemoteFile, hresult::DO_E_HTTP_CERT_VALIDATION, "http".into())
    );
    let TransferError::Failed { message, .. } = &error else { panic!("{error:?}") };
    assert!(message.contains("TLS handshake"), "{message}");
}

/// R5: `Duration::MAX` as every HTTP timeout means never; it once panicked in ureq, which adds
/// each timeout to `Instant::now()` unchecked.
#[test]
fn http_timeouts_of_duration_max_mean_never_and_the_transfer_still_works() {
    let expected = content(6, 50_000);
    let server = Resource::new(expected.clone(), "a").serve();
    for huge in [Duration::MAX, Duration::from_secs(u64::MAX)] {
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_for(dir.path(), &server.url("/f"));
        job.set_http_timeouts(Some(huge), Some(huge)).unwrap();
        let transport = HttpTransport::new().with_timeouts(huge, huge).with_resolve_timeout(huge);
        attempt(&transport, &job).unwrap();
        assert_eq!(completed_content(&job), expected);
        // The transport's own timeouts, for a job that sets none.
        let (_m, job) = job_for(dir.path(), &server.url("/g"));
        attempt(&transport, &job).unwrap();
        assert_eq!(completed_content(&job), expected);
    }
}
