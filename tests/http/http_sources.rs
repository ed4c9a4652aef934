//! DESIGN 6.2 "Sources", the HTTP side, against loopback servers: a cache host asked first for
//! `http://` (with its fallback to the origin, its delay and its 15-minute ban on a
//! [`ManualClock`]), the redirect policy, the method, the response headers reported to the sink,
//! and the secrets (custom headers, credentials) tested as an attacker would try to get them: a
//! redirect to a second server that records every header it receives, a cache host, a mirror,
//! error messages and `Debug` output. Driven through the driver API, as the engine would.

use crate::http_support;
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
use crate::tls;

use bgcopy::clock::ManualClock;
use bgcopy::transport::{
    HttpTransport, SegmentedSink, TransferError, TransferRequest, TransferSink, Transport,
};
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
    let (manager, job) = job_on(&clock, dir, url);
    (clock, manager, job)
}

/// A manager on `clock` without an engine, and a job with one file from `url`.
fn job_on(clock: &Arc<ManualClock>, dir: &std::path::Path, url: &str) -> (Manager, Job) {
    let manager = Manager::builder().without_engine().clock(clock.clone()).build();
    let job = manager.create_job("sources", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.add_file(url, &dir.join("out.bin")).unwrap();
    job.resume().unwrap();
    (manager, job)
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
    let origin = Resource::new(expected.clone(), "a").serve();
    let cache = Server::start(|_| Reply::new(502));
    let dir = tempfile::tempdir().unwrap();
    let transport = transport();
    let setup = cache_setup(&cache, Duration::ZERO);
    let mut origin_asks = 0;
    // One clock for the three jobs (three managers): the ban is counted on it.
    let clock = Arc::new(ManualClock::new());
    for (round, advance) in [(0, 0), (1, 14 * 60), (2, 60)] {
        let sub = dir.path().join(format!("r{round}"));
        std::fs::create_dir(&sub).unwrap();
        let (_m, job) = job_on(&clock, &sub, &origin.url("/f"));
        clock.advance(Duration::from_secs(advance));
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
    let origin = Resource::new(expected.clone(), "a").serve();
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
    let origin = Resource::new(expected.clone(), "a").serve();
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

// ---- secrets ----

const HEADER_SECRET: &str = "hdr-secret-7f3a";
const PASSWORD: &str = "pw-secret-91c2";

fn basic_credentials(target: BgAuthTarget) -> BgAuthCredentials {
    BgAuthCredentials {
        target,
        scheme: BgAuthScheme::Basic,
        user_name: "ada".to_owned(),
        password: PASSWORD.to_owned(),
    }
}

/// `Basic ` + Base64 of `ada:<PASSWORD>`, computed independently of the crate.
fn expected_basic() -> String {
    // "ada:pw-secret-91c2" in Base64.
    "Basic YWRhOnB3LXNlY3JldC05MWMy".to_owned()
}

/// Gives a job both kinds of secret.
fn arm(job: &Job) {
    job.set_custom_headers(&[("X-Api-Key", HEADER_SECRET)]).unwrap();
    job.set_credentials(&basic_credentials(BgAuthTarget::Server)).unwrap();
}

/// Every header value a server received, for an attacker's inventory.
fn everything_seen(server: &Server) -> String {
    server
        .requests()
        .iter()
        .map(|r| format!("{} {} {:?}\n", r.method, r.target, r.headers))
        .collect()
}

fn assert_no_secret(seen: &str, whom: &str) {
    assert!(!seen.contains(HEADER_SECRET), "{whom} got the custom header: {seen}");
    assert!(!seen.contains(PASSWORD), "{whom} got the password: {seen}");
    assert!(!seen.contains("YWRhOnB3"), "{whom} got the encoded password: {seen}");
    assert!(!seen.to_ascii_lowercase().contains("authorization"), "{whom}: {seen}");
    assert!(!seen.to_ascii_lowercase().contains("x-api-key"), "{whom}: {seen}");
}

#[test]
fn the_origin_gets_the_custom_headers_and_basic_credentials() {
    let origin = Resource::new(content(10, 500), "s").serve();
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &origin.url("/f"));
    arm(&job);
    let log = Arc::new(Mutex::new(Vec::new()));
    attempt_with(&transport(), &job, &Setup::default(), &log).unwrap();
    let request = &origin.requests()[0];
    assert_eq!(request.header("x-api-key"), Some(HEADER_SECRET));
    assert_eq!(request.header("authorization"), Some(expected_basic().as_str()));
}

#[test]
fn secrets_never_follow_a_redirect_to_another_origin_even_one_answering_401() {
    // The attacker's server on another port (another origin): records everything, asks for
    // credentials.
    let attacker =
        Server::start(|_| Reply::new(401).header("WWW-Authenticate", "Basic realm=\"give me\""));
    let location = attacker.url("/steal");
    let origin = Server::start(move |_| Reply::new(302).header("Location", location.clone()));
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &origin.url("/f"));
    arm(&job);
    let log = Arc::new(Mutex::new(Vec::new()));
    let error = attempt_with(&transport(), &job, &Setup::default(), &log).unwrap_err();
    assert_eq!(error.hresult(), 0x8019_0191, "a 401 the credentials cannot answer");
    assert!(!error.is_transient());
    assert_eq!(job.get_state(), BgJobState::Error);
    assert_eq!(attacker.requests().len(), 1, "the 401 is never answered with credentials");
    assert_no_secret(&everything_seen(&attacker), "the redirect target");
    assert_eq!(origin.requests()[0].header("x-api-key"), Some(HEADER_SECRET));
    // Nothing the caller can read shows a secret either.
    let shown = format!(
        "{error} {error:?} {job:?} {:?} {:?} {:?}",
        job.get_error().map(|e| e.get_error_description()),
        job.enum_files(),
        log.lock()
    );
    assert!(!shown.contains(HEADER_SECRET) && !shown.contains(PASSWORD), "{shown}");
}

#[test]
fn secrets_never_go_to_a_mirror_or_a_cache_host() {
    let resource = Resource::new(content(11, 800), "m");
    let mirror = Server::start({
        let resource = resource.clone();
        move |r| resource.respond(r)
    });
    let cache = cache_for(resource.clone());
    let origin = Server::start(move |r| resource.respond(r));
    let dir = tempfile::tempdir().unwrap();
    // From a mirror.
    let (_clock, _m, job) = clocked_job(dir.path(), &origin.url("/f"));
    arm(&job);
    let log = Arc::new(Mutex::new(Vec::new()));
    let setup = Setup { cache: None, source: Some(mirror.url("/f")) };
    attempt_with(&transport(), &job, &setup, &log).unwrap();
    assert_eq!(mirror.requests().len(), 1);
    assert_no_secret(&everything_seen(&mirror), "the mirror");
    // Through the cache host.
    let sub = dir.path().join("cache");
    std::fs::create_dir(&sub).unwrap();
    let (_clock, _m2, job) = clocked_job(&sub, &origin.url("/f"));
    arm(&job);
    attempt_with(&transport(), &job, &cache_setup(&cache, Duration::ZERO), &log).unwrap();
    assert_eq!(cache.requests().len(), 1);
    assert_no_secret(&everything_seen(&cache), "the cache host");
    assert!(origin.requests().is_empty());
}

#[test]
fn a_401_from_the_origin_with_credentials_sent_is_an_error_0x80190191() {
    let origin = Server::start(|_| Reply::new(401).header("WWW-Authenticate", "Basic realm=\"x\""));
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &origin.url("/f"));
    arm(&job);
    let log = Arc::new(Mutex::new(Vec::new()));
    let error = attempt_with(&transport(), &job, &Setup::default(), &log).unwrap_err();
    assert_eq!((error.hresult(), error.is_transient()), (0x8019_0191, false));
    assert_eq!(origin.requests().len(), 1);
    assert_eq!(job.get_state(), BgJobState::Error);
}

/// A proxy that records each `CONNECT` head and answers `407`.
fn refusing_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&heads);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            seen.lock().push(head);
            let _ = writer.write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n",
            );
        }
    });
    (port, heads)
}

#[test]
fn proxy_credentials_go_to_the_proxy_as_proxy_authorization_and_a_407_is_0x80190197() {
    let (port, heads) = refusing_proxy();
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), "http://origin.invalid/f");
    let list = format!("127.0.0.1:{port}");
    job.set_proxy_settings(BgJobProxyUsage::Override, Some(&list), None).unwrap();
    job.set_credentials(&basic_credentials(BgAuthTarget::Proxy)).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let error = attempt_with(&transport(), &job, &Setup::default(), &log).unwrap_err();
    assert_eq!((error.hresult(), error.is_transient()), (0x8019_0197, false), "{error}");
    let heads = heads.lock();
    assert!(heads[0].starts_with("CONNECT origin.invalid:80"), "{heads:?}");
    let expected = format!("Proxy-Authorization: {}\r\n", expected_basic());
    assert!(heads[0].contains(&expected), "{heads:?}");
    assert!(!format!("{error} {error:?}").contains(PASSWORD));
}

// ---- the job's HTTP options ----

#[test]
fn custom_headers_become_write_only_for_good_and_can_still_be_replaced() {
    let origin = Resource::new(content(12, 300), "w").serve();
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &origin.url("/f"));
    job.set_custom_headers(&[("X-Old", "1")]).unwrap();
    assert_eq!(job.get_custom_headers().unwrap(), vec![("X-Old".to_owned(), "1".to_owned())]);
    job.make_custom_headers_write_only().unwrap();
    job.make_custom_headers_write_only().unwrap();
    assert_eq!(job.get_custom_headers().unwrap_err().hresult(), hresult::E_ACCESSDENIED);
    job.set_custom_headers(&[("X-New", HEADER_SECRET)]).unwrap();
    assert_eq!(job.get_custom_headers().unwrap_err().hresult(), hresult::E_ACCESSDENIED);
    let log = Arc::new(Mutex::new(Vec::new()));
    attempt_with(&transport(), &job, &Setup::default(), &log).unwrap();
    let request = &origin.requests()[0];
    assert_eq!((request.header("x-new"), request.header("x-old")), (Some(HEADER_SECRET), None));
    // 16,384 characters in all (`name: value\r\n`), counted in characters.
    let fits = "é".repeat(16_384 - "X: \r\n".len());
    job.set_custom_headers(&[("X", &fits)]).unwrap();
    let over = format!("{fits}é");
    let error = job.set_custom_headers(&[("X", &over)]).unwrap_err();
    assert_eq!(error.hresult(), hresult::BG_E_STRING_TOO_LONG);
    job.set_custom_headers(&[]).unwrap();
}

#[test]
fn credentials_accept_basic_only_within_300_characters_and_have_no_getter() {
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("c", BgJobType::Download).unwrap();
    for scheme in
        [BgAuthScheme::Digest, BgAuthScheme::Ntlm, BgAuthScheme::Negotiate, BgAuthScheme::Passport]
    {
        for target in [BgAuthTarget::Server, BgAuthTarget::Proxy] {
            let credentials = BgAuthCredentials { scheme, ..basic_credentials(target) };
            let error = job.set_credentials(&credentials).unwrap_err();
            assert_eq!(error.hresult(), hresult::E_NOTIMPL, "{scheme:?}");
        }
    }
    let long = "x".repeat(301);
    let fits = "é".repeat(300);
    let user =
        BgAuthCredentials { user_name: long.clone(), ..basic_credentials(BgAuthTarget::Server) };
    assert_eq!(job.set_credentials(&user).unwrap_err().hresult(), hresult::BG_E_USERNAME_TOO_LARGE);
    let pw = BgAuthCredentials { password: long, ..basic_credentials(BgAuthTarget::Server) };
    let error = job.set_credentials(&pw).unwrap_err();
    assert_eq!(error.hresult(), hresult::BG_E_PASSWORD_TOO_LARGE);
    assert!(!error.to_string().contains(&"x".repeat(301)));
    let ok = BgAuthCredentials {
        user_name: fits.clone(),
        password: fits,
        ..basic_credentials(BgAuthTarget::Server)
    };
    job.set_credentials(&ok).unwrap();
    assert_eq!(
        job.remove_credentials(BgAuthTarget::Proxy, BgAuthScheme::Basic).unwrap(),
        BgSuccess::NoChange
    );
    assert_eq!(
        job.remove_credentials(BgAuthTarget::Server, BgAuthScheme::Basic).unwrap(),
        BgSuccess::Ok
    );
    assert_eq!(
        job.remove_credentials(BgAuthTarget::Server, BgAuthScheme::Basic).unwrap(),
        BgSuccess::NoChange
    );
    job.cancel().unwrap();
    let error = job.set_credentials(&basic_credentials(BgAuthTarget::Server)).unwrap_err();
    assert_eq!(error.hresult(), hresult::BG_E_INVALID_STATE);
}

#[test]
fn security_flags_refuse_what_the_transport_cannot_honour() {
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("f", BgJobType::Download).unwrap();
    assert_eq!(job.get_security_flags(), BgHttpSecurity::empty());
    for flag in [
        BgHttpSecurity::IGNORE_CERT_CN_INVALID,
        BgHttpSecurity::IGNORE_CERT_DATE_INVALID,
        BgHttpSecurity::IGNORE_UNKNOWN_CA,
        BgHttpSecurity::IGNORE_CERT_WRONG_USAGE,
    ] {
        assert_eq!(job.set_security_flags(flag).unwrap_err().hresult(), hresult::E_NOTIMPL);
    }
    let crl = job.set_security_flags(BgHttpSecurity::ENABLE_CRL_CHECK);
    if cfg!(any(target_os = "windows", target_os = "macos")) {
        crl.unwrap();
    } else {
        assert_eq!(crl.unwrap_err().hresult(), hresult::E_NOTIMPL, "never silently ignored");
    }
    let odd = BgHttpSecurity::from_bits_retain(0x300);
    assert_eq!(job.set_security_flags(odd).unwrap_err().hresult(), hresult::E_INVALIDARG);
    let flags =
        BgHttpSecurity::REDIRECT_POLICY_ALLOW_REPORT | BgHttpSecurity::ALLOW_HTTPS_TO_HTTP_REDIRECT;
    job.set_security_flags(flags).unwrap();
    assert_eq!(job.get_security_flags(), flags);
}

#[test]
fn the_method_is_set_before_the_first_resume_only_and_is_sent() {
    let expected = content(13, 40_000);
    let resource = Resource::new(expected.clone(), "p");
    let origin = Server::start(move |r| {
        let reply = resource.respond(r);
        if r.seq == 0 { reply.cut_after(20_000) } else { reply }
    });
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("post", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.add_file(&origin.url("/f"), &dir.path().join("out.bin")).unwrap();
    assert_eq!(job.get_http_method(), "GET");
    assert_eq!(job.set_http_method("NOT A TOKEN").unwrap_err().hresult(), hresult::E_INVALIDARG);
    job.set_http_method("POST").unwrap();
    assert_eq!(job.get_http_method(), "POST");
    job.resume().unwrap();
    let error = job.set_http_method("PUT").unwrap_err();
    assert_eq!(error.hresult(), hresult::BG_E_INVALID_STATE);
    job.suspend().unwrap();
    assert_eq!(job.set_http_method("PUT").unwrap_err().hresult(), hresult::BG_E_INVALID_STATE);
    job.resume().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    // A cut connection is transient for GET; for another method it is final.
    let error = attempt_with(&transport(), &job, &Setup::default(), &log).unwrap_err();
    assert!(!error.is_transient(), "{error:?}");
    assert_eq!(job.get_state(), BgJobState::Error);
    job.resume().unwrap();
    attempt_with(&transport(), &job, &Setup::default(), &log).unwrap();
    let requests = origin.requests();
    assert!(requests.iter().all(|r| r.method == "POST"), "{requests:?}");
    assert_eq!(requests[1].header("range"), None, "a resume starts from zero");
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn take_ownership_removes_headers_and_credentials() {
    let origin = Resource::new(content(14, 300), "o").serve();
    let dir = tempfile::tempdir().unwrap();
    let (_clock, manager, job) = clocked_job(dir.path(), &origin.url("/f"));
    arm(&job);
    let other = manager.as_owner("mallory");
    let taken = other.get_job(job.get_id()).unwrap();
    taken.take_ownership().unwrap();
    assert!(taken.get_custom_headers().unwrap().is_empty());
    let log = Arc::new(Mutex::new(Vec::new()));
    attempt_with(&transport(), &taken, &Setup::default(), &log).unwrap();
    assert_no_secret(&everything_seen(&origin), "the new owner's requests");
}

#[test]
fn http_options_survive_a_reopen_of_the_store_write_only_included() {
    let origin = Resource::new(content(15, 300), "d").serve();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let flags = BgHttpSecurity::REDIRECT_POLICY_DISALLOW;
    let id = {
        let manager = Manager::builder().without_engine().store(&store).build();
        let job = manager.create_job("durable", BgJobType::Download).unwrap();
        job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
        job.add_file(&origin.url("/f"), &dir.path().join("out.bin")).unwrap();
        arm(&job);
        job.make_custom_headers_write_only().unwrap();
        job.set_security_flags(flags).unwrap();
        job.set_http_method("POST").unwrap();
        job.get_id()
    };
    // The secrets are in the private store, not in anything a Debug shows.
    let manager = Manager::builder().without_engine().store(&store).build();
    let job = manager.get_job(id).unwrap();
    assert_eq!(job.get_custom_headers().unwrap_err().hresult(), hresult::E_ACCESSDENIED);
    assert_eq!(job.get_security_flags(), flags);
    assert_eq!(job.get_http_method(), "POST");
    assert!(!format!("{job:?} {manager:?}").contains(PASSWORD));
    job.resume().unwrap();
    drop(job);
    drop(manager);
    // Resumed once: the method is fixed for good, also after a reopen.
    let manager = Manager::builder().without_engine().store(&store).build();
    let job = manager.get_job(id).unwrap();
    assert_eq!(job.set_http_method("GET").unwrap_err().hresult(), hresult::BG_E_INVALID_STATE);
    let log = Arc::new(Mutex::new(Vec::new()));
    attempt_with(&transport(), &job, &Setup::default(), &log).unwrap();
    let request = &origin.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.header("x-api-key"), Some(HEADER_SECRET));
    assert_eq!(request.header("authorization"), Some(expected_basic().as_str()));
}

// ---- redirects ----

#[test]
fn redirect_policy_disallow_fails_the_file_with_0x80190000_or_status() {
    let server = Server::start(|r| match r.target.as_str() {
        "/old" => Reply::new(307).header("Location", "/new"),
        _ => Reply::new(200).body("x"),
    });
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &server.url("/old"));
    job.set_security_flags(BgHttpSecurity::REDIRECT_POLICY_DISALLOW).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let error = attempt_with(&transport(), &job, &Setup::default(), &log).unwrap_err();
    assert_eq!((error.hresult(), error.is_transient()), (0x8019_0133, false));
    assert_eq!(job.get_state(), BgJobState::Error);
    assert_eq!(server.requests().len(), 1, "not followed");
}

#[test]
fn redirect_policy_allow_report_follows_and_reports_the_final_url_silent_does_not() {
    let expected = content(16, 2000);
    let resource = Resource::new(expected.clone(), "r");
    let server = Server::start(move |r| match r.target.as_str() {
        "/old" => Reply::new(301).header("Location", "/mid"),
        "/mid" => Reply::new(302).header("Location", "/final?v=2"),
        _ => resource.respond(r),
    });
    let dir = tempfile::tempdir().unwrap();
    for (name, flags, reported) in [
        ("report", BgHttpSecurity::REDIRECT_POLICY_ALLOW_REPORT, true),
        ("silent", BgHttpSecurity::REDIRECT_POLICY_ALLOW_SILENT, false),
    ] {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        let (_clock, _m, job) = clocked_job(&sub, &server.url("/old"));
        job.set_security_flags(flags).unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        attempt_with(&transport(), &job, &Setup::default(), &log).unwrap();
        let finals: Vec<Report> =
            log.lock().iter().filter(|r| matches!(r, Report::FinalUrl(_))).cloned().collect();
        if reported {
            assert_eq!(finals, vec![Report::FinalUrl(server.url("/final?v=2"))]);
        } else {
            assert!(finals.is_empty(), "{finals:?}");
        }
        assert_eq!(completed_content(&job), expected);
    }
}

#[test]
fn the_request_debug_output_shows_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), "http://127.0.0.1:9/f");
    arm(&job);
    let file = job.enum_files().remove(0);
    let request = TransferRequest::new(&job, &file);
    let shown = format!("{request:?} {request:#?} {job:#?} {file:?} {:?}", request.credentials());
    assert!(!shown.contains(HEADER_SECRET) && !shown.contains(PASSWORD), "{shown}");
    // The transport itself reads them.
    assert_eq!(request.custom_headers()[0].1, HEADER_SECRET);
    assert_eq!(request.credentials()[0].password, PASSWORD);
    assert_eq!(request.source(), "http://127.0.0.1:9/f");
    assert_eq!(request.with_source("http://m/f").source(), "http://m/f");
    assert_eq!(request.cache_host(), None);
    assert!(!request.may_join_sources());
    file.set_expected_sha256(Some([7; 32])).unwrap();
    assert!(request.may_join_sources(), "a file with an expected SHA-256");
    assert_eq!(request.secrets_origin(), "http://127.0.0.1:9/f");
    assert_eq!(request.with_secrets_for("http://a/f").secrets_origin(), "http://a/f");
}

#[test]
fn secrets_go_to_the_origin_the_engine_names_not_to_a_remote_name_a_redirect_reported() {
    // The remote name was rewritten by an ALLOW_REPORT redirect to the attacker's server; the
    // engine names the caller's URL for the secrets.
    let attacker = Resource::new(content(17, 400), "x").serve();
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &attacker.url("/f"));
    arm(&job);
    let driver = job.claim().unwrap();
    driver.connected().unwrap();
    let file = driver.next_file().unwrap();
    let mut sink = driver.open_file(file.index()).unwrap();
    let request = TransferRequest::new(&job, &file).with_secrets_for("http://caller.example/f");
    transport().transfer(&request, &mut sink).unwrap();
    sink.finish().unwrap();
    driver.finish().unwrap();
    assert_no_secret(&everything_seen(&attacker), "a reported redirect target");
}

#[test]
fn https_goes_to_the_origin_never_to_the_cache_host() {
    let cache = cache_for(Resource::new(content(18, 100), "c"));
    // An https origin that refuses connections: the attempt fails at the origin, and the cache
    // (which cannot see inside TLS) is never asked.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &format!("https://127.0.0.1:{port}/f"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let error =
        attempt_with(&transport(), &job, &cache_setup(&cache, Duration::ZERO), &log).unwrap_err();
    assert_eq!(error.hresult(), hresult::BG_E_CONNECT_FAILURE, "{error}");
    assert!(cache.requests().is_empty());
    assert!(!log.lock().contains(&Report::FromPeer(true)));
}

#[test]
fn a_cache_answer_of_another_size_fails_validation_and_the_origin_serves() {
    let expected = content(19, 60_000);
    let resource = Resource::new(expected.clone(), "same");
    let origin = Server::start({
        let resource = resource.clone();
        move |r| {
            if r.seq == 0 { resource.respond(r).cut_after(30_000) } else { resource.respond(r) }
        }
    });
    // Same validator, other length: not the content of the bytes held.
    let cache = cache_for(Resource::new(content(19, 50_000), "same"));
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &origin.url("/f"));
    let log = Arc::new(Mutex::new(Vec::new()));
    assert!(attempt_with(&transport(), &job, &Setup::default(), &log).is_err());
    job.retry_now().unwrap();
    let held = job.get_progress().bytes_transferred;
    attempt_with(&transport(), &job, &cache_setup(&cache, Duration::ZERO), &log).unwrap();
    assert_eq!(cache.requests().len(), 1);
    assert_eq!(origin.requests()[1].range_start(), Some(held), "the bytes held are kept");
    assert_eq!(completed_content(&job), expected);
}

#[test]
fn a_job_with_another_method_than_get_never_uses_the_cache_host() {
    let resource = Resource::new(content(20, 500), "p");
    let origin = Server::start({
        let resource = resource.clone();
        move |r| resource.respond(r)
    });
    let cache = cache_for(resource);
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("post", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.add_file(&origin.url("/f"), &dir.path().join("out.bin")).unwrap();
    job.set_http_method("POST").unwrap();
    job.resume().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    attempt_with(&transport(), &job, &cache_setup(&cache, Duration::ZERO), &log).unwrap();
    assert!(cache.requests().is_empty());
    assert_eq!(origin.requests()[0].method, "POST");
}

// ---- https -> http ----

/// Runs `case` of [`https_child_case`] in a child process of this test binary that trusts
/// `roots` as the system store (`SSL_CERT_FILE`, set for the child only).
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
fn in_child(case: &str, roots: &std::path::Path, tls_port: u16) {
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &http_support::test_name(module_path!(), "https_child_case"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SSL_CERT_FILE", roots)
        .env_remove("SSL_CERT_DIR")
        .env("BGCOPY_SOURCES_CASE", case)
        .env("BGCOPY_SOURCES_PORT", tls_port.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "case {case} failed in its child: {status}");
}

#[test]
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
fn an_https_to_http_redirect_fails_unless_allowed_and_carries_no_secret() {
    let plain = Resource::new(content(21, 700), "plain").serve();
    let reply =
        format!("HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\n\r\n", plain.url("/f"));
    let server = tls::SelfSigned::start_replying(reply.into_bytes());
    let dir = tempfile::tempdir().unwrap();
    let roots = dir.path().join("roots.pem");
    std::fs::write(&roots, &server.certificate_pem).unwrap();
    in_child("refused", &roots, server.port);
    assert!(plain.requests().is_empty(), "https -> http is not followed by default");
    in_child("allowed", &roots, server.port);
    assert_eq!(plain.requests().len(), 1, "followed with ALLOW_HTTPS_TO_HTTP_REDIRECT");
    // Another scheme is another origin: no secret goes down to plain http.
    assert_no_secret(&everything_seen(&plain), "the http redirect target");
}

/// The child's half of the test above; does nothing when run on its own.
#[test]
fn https_child_case() {
    let (Ok(case), Ok(port)) =
        (std::env::var("BGCOPY_SOURCES_CASE"), std::env::var("BGCOPY_SOURCES_PORT"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_clock, _m, job) = clocked_job(dir.path(), &format!("https://localhost:{port}/f"));
    arm(&job);
    let log = Arc::new(Mutex::new(Vec::new()));
    match case.as_str() {
        "refused" => {
            let error = attempt_with(&transport(), &job, &Setup::default(), &log).unwrap_err();
            assert_eq!((error.hresult(), error.is_transient()), (0x8019_012E, false), "{error}");
            assert_eq!(job.get_state(), BgJobState::Error);
        }
        "allowed" => {
            job.set_security_flags(BgHttpSecurity::ALLOW_HTTPS_TO_HTTP_REDIRECT).unwrap();
            attempt_with(&transport(), &job, &Setup::default(), &log).unwrap();
            assert_eq!(completed_content(&job), content(21, 700));
        }
        other => panic!("unknown case {other}"),
    }
}

// ---- joining sources ----

/// The SHA-256 of `bytes` (the driver checks a file against it once every byte is there).
fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

#[test]
fn with_an_expected_sha256_a_mirror_under_another_validator_continues_the_bytes_held() {
    let expected = content(22, 80_000);
    for with_digest in [true, false] {
        let at_origin = Resource::new(expected.clone(), "origin");
        let origin = Server::start(move |r| at_origin.respond(r).cut_after(40_000));
        let mirror = Resource::new(expected.clone(), "mirror").serve();
        let dir = tempfile::tempdir().unwrap();
        let (_clock, _m, job) = clocked_job(dir.path(), &origin.url("/f"));
        if with_digest {
            job.enum_files()[0].set_expected_sha256(Some(sha256(&expected))).unwrap();
        }
        let log = Arc::new(Mutex::new(Vec::new()));
        assert!(attempt_with(&transport(), &job, &Setup::default(), &log).is_err());
        job.retry_now().unwrap();
        let held = job.get_progress().bytes_transferred;
        assert!(held > 0);
        let setup = Setup { cache: None, source: Some(mirror.url("/f")) };
        attempt_with(&transport(), &job, &setup, &log).unwrap();
        let asked = &mirror.requests()[0];
        if with_digest {
            assert_eq!(asked.range_start(), Some(held), "only what is missing");
            assert_eq!(asked.header("if-range"), None);
            assert_eq!(mirror.requests().len(), 1);
        } else {
            // Without a digest, only the same validator proves the same content: from zero.
            assert_eq!(asked.header("if-range"), Some("\"origin\""));
            let sent: usize = mirror.requests().len();
            assert!(sent >= 1);
        }
        assert_eq!(completed_content(&job), expected, "digest {with_digest}");
    }
}
