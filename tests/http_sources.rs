//! DESIGN 6.2 "Sources", the HTTP side, against loopback servers: a cache host asked first for
//! `http://` (with its fallback to the origin, its delay and its 15-minute ban on a
//! [`ManualClock`]), the redirect policy, the method, the response headers reported to the sink,
//! and the secrets (custom headers, credentials) tested as an attacker would try to get them: a
//! redirect to a second server that records every header it receives, a cache host, a mirror,
//! error messages and `Debug` output. Driven through the driver API, as the engine would.

mod http_support;

use bgcopy::*;
use http_support::*;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

fn content(seed: u64, len: usize) -> Vec<u8> {
    Rng::new(seed).bytes(len)
}

/// What a transport reported to its sink besides bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Report {
    Headers(String),
    FromPeer(bool),
    FinalUrl(String),
}

/// A sink that passes everything to the driver's and records the reports.
struct Recording<'a> {
    inner: &'a mut FileTransfer,
    log: Arc<Mutex<Vec<Report>>>,
}

impl TransferSink for Recording<'_> {
    fn offset(&self) -> u64 {
        self.inner.offset()
    }
    fn size(&self) -> Option<u64> {
        self.inner.size()
    }
    fn validator(&self) -> Option<&str> {
        self.inner.validator()
    }
    fn set_validator(&mut self, validator: Option<String>) {
        self.inner.set_validator(validator);
    }
    fn set_size(&mut self, size: Option<u64>) -> Result<(), TransferError> {
        self.inner.set_size(size)
    }
    fn write(&mut self, data: &[u8]) -> Result<(), TransferError> {
        self.inner.write(data)
    }
    fn restart(&mut self) -> Result<(), TransferError> {
        self.inner.restart()
    }
    fn should_stop(&self) -> bool {
        self.inner.should_stop()
    }
    fn max_connections(&self) -> u32 {
        self.inner.max_connections()
    }
    fn segmented(&mut self) -> Option<Box<dyn SegmentedSink + '_>> {
        self.inner.segmented()
    }
    fn set_response_headers(&mut self, headers: &str) {
        self.log.lock().push(Report::Headers(headers.to_owned()));
        self.inner.set_response_headers(headers);
    }
    fn set_from_peer(&mut self, from_peer: bool) {
        self.log.lock().push(Report::FromPeer(from_peer));
        self.inner.set_from_peer(from_peer);
    }
    fn report_final_url(&mut self, url: &str) {
        self.log.lock().push(Report::FinalUrl(url.to_owned()));
        self.inner.report_final_url(url);
    }
}

/// How an attempt builds its request: the cache host, a mirror.
#[derive(Debug, Clone, Default)]
struct Setup {
    cache: Option<(String, Duration)>,
    source: Option<String>,
}

/// One attempt through the driver API with the request `setup` says, its reports in `log`.
fn attempt_with(
    transport: &HttpTransport,
    job: &Job,
    setup: &Setup,
    log: &Arc<Mutex<Vec<Report>>>,
) -> Result<(), TransferError> {
    let driver = job.claim().map_err(TransferError::from)?;
    driver.connected()?;
    while let Some(file) = driver.next_file() {
        let index = file.index();
        let mut sink = driver.open_file(index)?;
        let mut request = TransferRequest::new(job, &file);
        if let Some((host, delay)) = &setup.cache {
            request = request.with_cache_host(host, *delay);
        }
        if let Some(source) = &setup.source {
            request = request.with_source(source);
        }
        let mut recording = Recording { inner: &mut sink, log: Arc::clone(log) };
        let result = transport.transfer(&request, &mut recording).and_then(|()| sink.finish());
        if let Err(error) = result {
            driver.fail(error.clone(), Some(index))?;
            return Err(error);
        }
    }
    driver.finish()
}

/// A manager on a manual clock without an engine, and a job with one file from `url`.
fn clocked_job(dir: &std::path::Path, url: &str) -> (Arc<ManualClock>, Manager, Job) {
    let clock = Arc::new(ManualClock::new());
    let manager = Manager::builder().without_engine().clock(clock.clone()).build();
    let job = manager.create_job("sources", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.add_file(url, &dir.join("out.bin")).unwrap();
    job.resume().unwrap();
    (clock, manager, job)
}

/// A cache host serving `resource` for requests that name their origin, recording them.
fn cache_for(resource: Resource) -> Server {
    Server::start(move |r| {
        if r.target.contains("cacheHostOrigin=") { resource.respond(r) } else { Reply::new(400) }
    })
}

fn host_of(server: &Server) -> String {
    format!("127.0.0.1:{}", server.port())
}

fn cache_setup(cache: &Server, delay: Duration) -> Setup {
    Setup { cache: Some((host_of(cache), delay)), source: None }
}

// ---- cache host ----

#[test]
fn http_requests_go_first_to_the_cache_host_with_the_origin_named_literally() {
    let expected = content(1, 50_000);
    let resource = Resource::new(expected.clone(), "a");
    let origin = Server::start({
        let resource = resource.clone();
        move |r| resource.respond(r)
    });
    let cache = cache_for(resource);
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &origin.url("/dir/f.bin?sig=x%2By"));
    let log = Arc::new(Mutex::new(Vec::new()));
    attempt_with(&transport(), &job, &cache_setup(&cache, Duration::ZERO), &log).unwrap();
    let asked = cache.requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].target,
        format!("/dir/f.bin?sig=x%2By&cacheHostOrigin=127.0.0.1:{}", origin.port())
    );
    assert!(origin.requests().is_empty(), "the origin is not asked when the cache serves");
    assert_eq!(log.lock().first(), Some(&Report::FromPeer(true)), "{:?}", log.lock());
    assert!(!log.lock().contains(&Report::FromPeer(false)));
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn a_cache_answering_5xx_sends_the_request_to_the_origin_and_is_skipped_for_15_minutes() {
    let expected = content(2, 20_000);
    let resource = Resource::new(expected.clone(), "a");
    let origin = Server::start(move |r| resource.respond(r));
    let cache = Server::start(|_| Reply::new(502));
    let dir = tempfile::tempdir().unwrap();
    let transport = transport();
    let setup = cache_setup(&cache, Duration::ZERO);
    let mut origin_asks = 0;
    for (round, advance) in [(0, 0), (1, 14 * 60), (2, 60)] {
        let sub = dir.path().join(format!("r{round}"));
        std::fs::create_dir(&sub).unwrap();
        let (clock, _m, job) = clocked_job(&sub, &origin.url("/f"));
        // Each manager has its own clock from zero: the ban is counted on the job's clock.
        clock.advance(Duration::from_secs(advance) * round);
        let log = Arc::new(Mutex::new(Vec::new()));
        attempt_with(&transport, &job, &setup, &log).unwrap();
        origin_asks += 1;
        assert_eq!(origin.requests().len(), origin_asks);
        assert!(log.lock().contains(&Report::FromPeer(false)), "{:?}", log.lock());
        assert_eq!(completed_content(&job), expected);
        let cache_asks = cache.requests().len();
        match round {
            0 => assert_eq!(cache_asks, 1),
            // 14 minutes later: still banned.
            1 => assert_eq!(cache_asks, 1, "a failed cache host is skipped for 15 minutes"),
            // 15 minutes after the failure (from the clock's zero): asked again.
            _ => assert_eq!(cache_asks, 2, "asked again once the ban is over"),
        }
    }
}

#[test]
fn a_cache_that_does_not_connect_falls_back_to_the_origin() {
    let expected = content(3, 10_000);
    let resource = Resource::new(expected.clone(), "a");
    let origin = Server::start(move |r| resource.respond(r));
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &origin.url("/f"));
    let setup = Setup { cache: Some((dead, Duration::ZERO)), source: None };
    let log = Arc::new(Mutex::new(Vec::new()));
    attempt_with(&transport(), &job, &setup, &log).unwrap();
    assert_eq!(
        *log.lock().iter().find(|r| matches!(r, Report::FromPeer(_))).unwrap(),
        Report::FromPeer(true)
    );
    assert!(log.lock().contains(&Report::FromPeer(false)));
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn the_fallback_delay_counts_from_the_first_request_to_the_cache() {
    let expected = content(4, 10_000);
    let resource = Resource::new(expected.clone(), "a");
    let origin = Server::start(move |r| resource.respond(r));
    let cache = Server::start(|_| Reply::new(503));
    let dir = tempfile::tempdir().unwrap();
    let (clock, _m, job) = clocked_job(dir.path(), &origin.url("/f"));
    let setup = cache_setup(&cache, Duration::from_secs(30));
    let log = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| attempt_with(&transport(), &job, &setup, &log));
        // Wait for the event: the cache has been asked and failed.
        while cache.requests().is_empty() {
            std::thread::yield_now();
        }
        clock.advance(Duration::from_secs(29));
        assert!(origin.requests().is_empty(), "not before the fallback delay");
        clock.advance(Duration::from_secs(1));
        worker.join().unwrap().unwrap();
    });
    assert_eq!(origin.requests().len(), 1);
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn cache_bytes_of_another_content_are_not_joined_the_origin_resumes_its_own() {
    let expected = content(5, 60_000);
    let resource = Resource::new(expected.clone(), "origin");
    let origin = Server::start({
        let resource = resource.clone();
        move |r| {
            if r.seq == 0 { resource.respond(r).cut_after(30_000) } else { resource.respond(r) }
        }
    });
    // The cache holds other content under another validator.
    let cache = cache_for(Resource::new(content(55, 60_000), "stale"));
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &origin.url("/f"));
    let log = Arc::new(Mutex::new(Vec::new()));
    // First attempt from the origin only: cut half-way.
    assert!(attempt_with(&transport(), &job, &Setup::default(), &log).is_err());
    job.retry_now().unwrap();
    let held = job.get_progress().bytes_transferred;
    assert!(held > 0);
    let transport = transport();
    attempt_with(&transport, &job, &cache_setup(&cache, Duration::ZERO), &log).unwrap();
    assert_eq!(cache.requests().len(), 1);
    assert_eq!(cache.requests()[0].header("if-range"), Some("\"origin\""));
    let resumed = &origin.requests()[1];
    assert_eq!(resumed.range_start(), Some(held), "the origin continues the bytes held");
    assert_eq!(completed_content(&job), expected);
    // The cache failed validation: skipped by the next file.
    let sub = dir.path().join("next");
    std::fs::create_dir(&sub).unwrap();
    let (_clock, _m2, next) = clocked_job(&sub, &origin.url("/f"));
    attempt_with(&transport, &next, &cache_setup(&cache, Duration::ZERO), &log).unwrap();
    assert_eq!(cache.requests().len(), 1, "banned after failing validation");
}

#[test]
fn segments_work_through_the_cache_host() {
    let expected = content(6, 6 * 1024 * 1024);
    let resource = Resource::new(expected.clone(), "big");
    let origin = Server::start({
        let resource = resource.clone();
        move |r| resource.respond(r)
    });
    let cache = cache_for(resource);
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &origin.url("/big"));
    job.set_max_connections(4).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    attempt_with(&transport(), &job, &cache_setup(&cache, Duration::ZERO), &log).unwrap();
    let asked = cache.requests();
    assert!(asked.len() > 1, "several ranges: {}", asked.len());
    assert!(
        asked.iter().all(|r| r.target.ends_with(&format!("cacheHostOrigin={}", host_of(&origin))))
    );
    assert!(origin.requests().is_empty());
    assert_eq!(completed_content(&job), expected);
}

// ---- response headers ----

#[test]
fn the_last_responses_headers_reach_the_sink_as_crlf_lines() {
    let resource = Resource::new(content(7, 1000), "h");
    let server = Server::start(move |r| match r.target.as_str() {
        "/old" => Reply::new(302).header("Location", "/f").header("X-Hop", "1"),
        _ => resource.respond(r).header("X-Served-By", "origin"),
    });
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &server.url("/old"));
    let log = Arc::new(Mutex::new(Vec::new()));
    attempt_with(&transport(), &job, &Setup::default(), &log).unwrap();
    let headers: Vec<String> = log
        .lock()
        .iter()
        .filter_map(|r| match r {
            Report::Headers(h) => Some(h.clone()),
            _ => None,
        })
        .collect();
    let last = headers.last().expect("headers reported");
    assert!(last.ends_with("\r\n"), "{last:?}");
    let lines: Vec<&str> = last.split_terminator("\r\n").collect();
    assert!(lines.contains(&"etag: \"h\""), "{lines:?}");
    assert!(lines.contains(&"x-served-by: origin"), "{lines:?}");
    assert!(lines.contains(&"content-length: 1000"), "{lines:?}");
    assert!(!last.contains("x-hop"), "a redirect followed is not the last response");
}
