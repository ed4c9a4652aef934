//! The loopback server for segmented downloads (`http_support/segments.rs`) checked against a
//! plain HTTP client (ureq): what it answers to each kind of `Range` and `If-Range`, its knobs
//! (bandwidth per connection, cuts, ignoring ranges, content changes, validator variants,
//! chunked bodies, `Retry-After`), and its request log. The engine's segmented downloads are
//! tested against it elsewhere; these tests make sure the yardstick is straight.
//!
//! Included by path, as a bench would include it.

use crate::http_support::segments;

use segments::{DATE, SegmentServer, Validators};
use std::io::Read;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// A body whose every byte says where it is (mod 251), so a slice shows its offset.
fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().new_agent()
}

/// Status, headers (lower-case names) and the whole body of one exchange.
struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn send(agent: &ureq::Agent, method: &str, url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = match method {
        "HEAD" => agent.head(url),
        _ => agent.get(url),
    };
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.call().expect("an answer");
    let mut body = Vec::new();
    if method != "HEAD" {
        response.body_mut().as_reader().read_to_end(&mut body).expect("the whole body");
    }
    Answer { status: response.status().as_u16(), headers: response.headers().clone(), body }
}

fn get(server: &SegmentServer, path: &str, headers: &[(&str, &str)]) -> Answer {
    send(&agent(), "GET", &server.url(path), headers)
}

#[test]
fn each_range_form_is_served_as_206_with_an_exact_content_range() {
    let content = body(1000);
    let server = SegmentServer::with("/f", content.clone());
    for (range, first, last) in [
        ("bytes=0-99", 0, 99),
        ("bytes=100-199", 100, 199),
        ("bytes=990-", 990, 999),
        ("bytes=-10", 990, 999),
        ("bytes=900-5000", 900, 999),
        ("bytes=-5000", 0, 999),
        ("bytes=999-999", 999, 999),
    ] {
        let answer = get(&server, "/f", &[("Range", range)]);
        assert_eq!(answer.status, 206, "{range}");
        let expected = format!("bytes {first}-{last}/1000");
        assert_eq!(answer.header("content-range"), Some(expected.as_str()), "{range}");
        assert_eq!(answer.header("content-length"), Some((last - first + 1).to_string().as_str()));
        assert_eq!(answer.body, content[first..=last], "{range}");
        assert_eq!(answer.header("accept-ranges"), Some("bytes"));
    }
}

#[test]
fn a_range_past_the_end_is_416_naming_the_length() {
    let server = SegmentServer::with("/f", body(1000));
    for range in ["bytes=1000-", "bytes=1000-1999", "bytes=-0"] {
        let answer = get(&server, "/f", &[("Range", range)]);
        assert_eq!(answer.status, 416, "{range}");
        assert_eq!(answer.header("content-range"), Some("bytes */1000"));
        assert!(answer.body.is_empty());
    }
}

#[test]
fn malformed_or_multiple_ranges_are_ignored_with_the_whole_body() {
    let content = body(1000);
    let server = SegmentServer::with("/f", content.clone());
    for range in ["bytes=5-1", "bytes=0-1,5-6", "items=0-9", "bytes=x-", "bytes=-"] {
        let answer = get(&server, "/f", &[("Range", range)]);
        assert_eq!((answer.status, answer.body.len()), (200, 1000), "{range}");
        assert_eq!(answer.header("content-range"), None);
    }
}

#[test]
fn if_range_with_the_current_etag_or_date_gets_the_range_anything_else_the_whole_body() {
    let content = body(1000);
    let server = SegmentServer::with("/f", content.clone());
    let full = get(&server, "/f", &[]);
    let etag = full.header("etag").unwrap().to_owned();
    let date = full.header("last-modified").unwrap().to_owned();
    assert_eq!(etag, server.etag("/f"));
    assert_eq!(date, server.last_modified("/f"));
    assert_eq!(full.header("date"), Some(DATE));
    for validator in [etag.as_str(), date.as_str()] {
        let answer = get(&server, "/f", &[("Range", "bytes=500-"), ("If-Range", validator)]);
        assert_eq!((answer.status, answer.body.as_slice()), (206, &content[500..]), "{validator}");
    }
    let weak = format!("W/{etag}");
    for stale in ["\"other\"", weak.as_str(), "Tue, 01 Jul 2025 00:00:09 GMT"] {
        let answer = get(&server, "/f", &[("Range", "bytes=500-"), ("If-Range", stale)]);
        assert_eq!((answer.status, answer.body.len()), (200, 1000), "{stale}");
    }
}

#[test]
fn head_answers_the_headers_a_get_would_without_a_body() {
    let server = SegmentServer::with("/f", body(1000));
    let agent = agent();
    let head = send(&agent, "HEAD", &server.url("/f"), &[]);
    assert_eq!((head.status, head.header("content-length")), (200, Some("1000")));
    assert_eq!(head.header("etag").map(str::to_owned), Some(server.etag("/f")));
    let head = send(&agent, "HEAD", &server.url("/f"), &[("Range", "bytes=10-19")]);
    assert_eq!((head.status, head.header("content-range")), (206, Some("bytes 10-19/1000")));
    assert_eq!(head.header("content-length"), Some("10"));
    let log = server.requests();
    assert_eq!(log[1].body_sent, 0);
    assert_eq!(log[0].connection, log[1].connection, "kept alive after a HEAD");
}

#[test]
fn connections_are_kept_alive_and_unknown_paths_or_methods_are_refused() {
    let server = SegmentServer::with("/f", body(100));
    let agent = agent();
    for _ in 0..3 {
        assert_eq!(send(&agent, "GET", &server.url("/f"), &[]).status, 200);
    }
    assert_eq!(send(&agent, "GET", &server.url("/missing?x=1"), &[]).status, 404);
    let put = agent.put(server.url("/f")).send("x").unwrap();
    assert_eq!(put.status().as_u16(), 405);
    let log = server.requests();
    assert!(log.iter().take(4).all(|l| l.connection == 0), "{log:#?}");
    assert_eq!(log[3].path, "/missing");
    assert_eq!(server.connections_accepted(), 1);
}

/// Body bytes per second one connection receives over about half a second.
fn measured_rate(url: &str) -> f64 {
    let mut response = agent().get(url).call().unwrap();
    let mut reader = response.body_mut().as_reader();
    let started = Instant::now();
    let mut buf = vec![0u8; 16 * 1024];
    let mut received = 0;
    while started.elapsed() < Duration::from_millis(500) {
        received += reader.read(&mut buf).unwrap();
    }
    received as f64 / started.elapsed().as_secs_f64()
}

#[test]
fn the_bandwidth_cap_holds_per_connection_so_two_connections_get_twice_as_much() {
    const RATE: u64 = 400_000;
    let server = SegmentServer::with("/big", body(16 << 20));
    server.set_bandwidth_per_connection(Some(RATE));
    // Only the cap's side is asserted: a busy machine can make a reader slower than the cap,
    // never faster (speed itself belongs in the benchmarks).
    let within = |rate: f64| rate > 0.0 && rate <= RATE as f64 * 1.5;
    let alone = measured_rate(&server.url("/big"));
    assert!(within(alone), "one connection: {alone:.0} B/s for a cap of {RATE}");
    let url = server.url("/big");
    let pair: Vec<f64> = (0..2)
        .map(|_| {
            let url = url.clone();
            thread::spawn(move || measured_rate(&url))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    for rate in &pair {
        assert!(within(*rate), "each of two connections: {pair:?} for a cap of {RATE}");
    }
    server.set_bandwidth_per_connection(None);
    let free = measured_rate(&server.url("/big"));
    assert!(free > RATE as f64 * 2.0, "no cap: {free:.0} B/s");
}

#[test]
fn cuts_close_the_connection_inside_the_body_at_seeded_offsets() {
    let content = body(100_000);
    let cut_points = |seed: u64| -> Vec<u64> {
        let server = SegmentServer::with("/f", content.clone());
        server.set_cuts(1.0, seed);
        for _ in 0..5 {
            let mut response = agent().get(server.url("/f")).call().unwrap();
            let mut received = Vec::new();
            let result = response.body_mut().as_reader().read_to_end(&mut received);
            assert!(result.is_err(), "a cut body ends early");
            assert_eq!(received, content[..received.len()], "a prefix of the content");
        }
        let log = server.requests();
        assert!(log.iter().all(|l| l.cut && l.body_sent < 100_000), "{log:#?}");
        assert_eq!(server.connections_accepted(), 5, "each cut closes its connection");
        log.iter().map(|l| l.body_sent).collect()
    };
    assert_eq!(cut_points(7), cut_points(7), "the same seed cuts at the same offsets");
    assert_ne!(cut_points(7), cut_points(8));
    let server = SegmentServer::with("/f", content.clone());
    server.set_cuts(0.0, 7);
    assert_eq!(get(&server, "/f", &[]).body, content, "probability zero never cuts");
}

#[test]
fn ignoring_range_answers_200_with_the_whole_body() {
    let server = SegmentServer::with("/f", body(1000));
    server.set_ignore_range(true);
    let answer = get(&server, "/f", &[("Range", "bytes=10-19")]);
    assert_eq!((answer.status, answer.body.len()), (200, 1000));
    assert_eq!(answer.header("accept-ranges"), None);
    server.set_ignore_range(false);
    assert_eq!(get(&server, "/f", &[("Range", "bytes=10-19")]).status, 206);
}

#[test]
fn the_content_changes_after_n_requests_and_if_range_then_gets_the_new_whole_body() {
    let (old, new) = (body(1000), vec![9u8; 800]);
    let server = SegmentServer::with("/f", old.clone());
    server.replace_after_requests("/f", 2, new.clone());
    let first = get(&server, "/f", &[("Range", "bytes=0-99")]);
    let etag = first.header("etag").unwrap().to_owned();
    let second = get(&server, "/f", &[("Range", "bytes=100-199"), ("If-Range", &etag)]);
    assert_eq!((second.status, second.body.as_slice()), (206, &old[100..200]));
    let third = get(&server, "/f", &[("Range", "bytes=200-299"), ("If-Range", &etag)]);
    assert_eq!((third.status, third.body.as_slice()), (200, new.as_slice()));
    assert_ne!(third.header("etag"), Some(etag.as_str()));
    assert_ne!(third.header("last-modified"), first.header("last-modified"));
    let versions: Vec<u32> = server.requests().iter().map(|l| l.version).collect();
    assert_eq!(versions, [1, 1, 2]);
}

#[test]
fn the_content_changes_at_a_given_moment() {
    let server = SegmentServer::with("/f", body(100));
    let delay = Duration::from_millis(150);
    let before = Instant::now();
    server.replace_after("/f", delay, vec![1u8; 50]);
    let after = Instant::now();
    let first = get(&server, "/f", &[]).body;
    // A request answered before the moment (`before + delay` at the earliest) has the old
    // content; on a machine too slow to ask in time, there is nothing to check here.
    if before.elapsed() < delay {
        assert_eq!(first.len(), 100);
    }
    // Once the moment (`after + delay` at the latest) has passed, by the clock itself.
    thread::sleep((after + delay).saturating_duration_since(Instant::now()));
    assert_eq!(get(&server, "/f", &[]).body, vec![1u8; 50]);
    assert_eq!(server.version("/f"), 2);
}

#[test]
fn a_response_under_way_finishes_with_the_content_it_started_with() {
    let old = body(100_000);
    let server = SegmentServer::with("/f", old.clone());
    server.set_bandwidth_per_connection(Some(200_000));
    let url = server.url("/f");
    let reader = thread::spawn(move || send(&agent(), "GET", &url, &[]).body);
    // The server has planned the response (its content chosen) once it logs the request.
    let start = Instant::now();
    while server.requests().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "the request never arrived");
        thread::yield_now();
    }
    server.replace_now("/f", vec![0u8; 10]);
    assert_eq!(reader.join().unwrap(), old);
    assert_eq!(get(&server, "/f", &[]).body, vec![0u8; 10]);
}

#[test]
fn weak_etag_only_or_no_validator_never_satisfies_if_range() {
    let server = SegmentServer::with("/f", body(1000));
    server.set_validators(Validators::WeakEtagOnly);
    let full = get(&server, "/f", &[]);
    let weak = full.header("etag").unwrap().to_owned();
    assert!(weak.starts_with("W/\""), "{weak}");
    assert_eq!(full.header("last-modified"), None);
    let answer = get(&server, "/f", &[("Range", "bytes=500-"), ("If-Range", &weak)]);
    assert_eq!(answer.status, 200);
    // Without If-Range the range is still served.
    assert_eq!(get(&server, "/f", &[("Range", "bytes=500-")]).status, 206);

    server.set_validators(Validators::None);
    let full = get(&server, "/f", &[]);
    assert_eq!((full.header("etag"), full.header("last-modified")), (None, None));
    let answer = get(&server, "/f", &[("Range", "bytes=500-"), ("If-Range", &weak)]);
    assert_eq!(answer.status, 200);

    server.set_validators(Validators::LastModifiedOnly);
    let full = get(&server, "/f", &[]);
    assert_eq!(full.header("etag"), None);
    let date = full.header("last-modified").unwrap().to_owned();
    assert_eq!(get(&server, "/f", &[("Range", "bytes=500-"), ("If-Range", &date)]).status, 206);
}

#[test]
fn the_chunked_variant_sends_no_content_length() {
    let content = body(50_000);
    let server = SegmentServer::with("/f", content.clone());
    server.set_chunked(true);
    let full = get(&server, "/f", &[]);
    assert_eq!(
        (full.header("content-length"), full.header("transfer-encoding")),
        (None, Some("chunked"))
    );
    assert_eq!(full.body, content);
    let part = get(&server, "/f", &[("Range", "bytes=100-")]);
    assert_eq!((part.status, part.header("content-range")), (206, Some("bytes 100-49999/50000")));
    assert_eq!(part.header("content-length"), None);
    assert_eq!(part.body, content[100..]);
}

#[test]
fn retry_after_mode_answers_503_for_the_first_n_requests() {
    let server = SegmentServer::with("/f", body(100));
    server.set_retry_after(2, "7");
    for _ in 0..2 {
        let answer = get(&server, "/f", &[]);
        assert_eq!((answer.status, answer.header("retry-after")), (503, Some("7")));
    }
    let answer = get(&server, "/f", &[]);
    assert_eq!((answer.status, answer.header("retry-after")), (200, None));
}

#[test]
fn the_log_records_every_request_and_the_connections_used_in_parallel() {
    let server = SegmentServer::with("/f", body(400_000));
    server.set_bandwidth_per_connection(Some(500_000));
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4u64)
        .map(|i| {
            let (url, barrier) = (server.url("/f"), Arc::clone(&barrier));
            let etag = server.etag("/f");
            thread::spawn(move || {
                barrier.wait();
                let range = format!("bytes={}-{}", i * 100_000, i * 100_000 + 99_999);
                send(&agent(), "GET", &url, &[("Range", &range), ("If-Range", &etag)]).body
            })
        })
        .collect();
    let mut parts = Vec::new();
    for t in threads {
        parts.extend(t.join().unwrap());
    }
    assert_eq!(parts, body(400_000), "the four ranges make the whole");
    assert_eq!(server.max_concurrent_connections(), 4);
    assert_eq!(server.max_concurrent_responses(), 4);
    let log = server.requests();
    assert_eq!(log.len(), 4);
    let mut connections: Vec<usize> = log.iter().map(|l| l.connection).collect();
    connections.sort_unstable();
    assert_eq!(connections, [0, 1, 2, 3]);
    assert!(log.iter().all(|l| l.method == "GET" && l.path == "/f" && l.status == 206));
    assert!(log.iter().all(|l| l.if_range.as_deref() == Some(server.etag("/f").as_str())));
    assert!(log.iter().all(|l| l.body_sent == 100_000 && !l.cut));
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq && w[0].at <= w[1].at));
    assert_eq!(server.bytes_fetched_twice("/f"), 0);
}

#[test]
fn bytes_fetched_twice_counts_only_overlapping_ranges() {
    let server = SegmentServer::with("/f", body(1000));
    get(&server, "/f", &[("Range", "bytes=0-99")]);
    get(&server, "/f", &[("Range", "bytes=100-199")]);
    assert_eq!(server.bytes_fetched_twice("/f"), 0);
    get(&server, "/f", &[("Range", "bytes=150-249")]);
    assert_eq!(server.bytes_fetched_twice("/f"), 50);
    get(&server, "/f", &[]);
    assert_eq!(server.bytes_fetched_twice("/f"), 50 + 250);
    // Another version of the content is another set of bytes.
    server.replace_now("/f", body(1000));
    get(&server, "/f", &[("Range", "bytes=0-99")]);
    assert_eq!(server.bytes_fetched_twice("/f"), 300);
    server.clear_log();
    assert!(server.requests().is_empty());
    assert_eq!(server.bytes_fetched_twice("/f"), 0);
}
