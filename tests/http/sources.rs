//! DESIGN 6.2, where the bytes come from, in the engine, against loopback HTTP servers: mirrors
//! as ordered fallbacks, bytes kept only where two sources provably serve the same content, a
//! new remote name taking effect in a running transfer, bytes from a cache host counted as from
//! peers and sent back to the origin when they fail the expected SHA-256, the response headers,
//! a reopened job resuming on its source, and the maximum download time on a `ManualClock`.
//! Each test is named after the rule it checks. No test sleeps or measures time: each waits on
//! the job (its state, its progress) or on the servers' request logs.

use crate::http_support;

use bgcopy::clock::ManualClock;
use bgcopy::transport::HttpTransport;
use bgcopy::*;
use http_support::*;
use std::sync::Arc;
use std::time::Duration;

/// Long enough for anything a test waits for; the tests never rely on it passing.
const PATIENCE: Duration = Duration::from_secs(60);
/// A pause that outlasts every test: a server "stalls" with it.
const FOREVER: Duration = Duration::from_secs(600);

fn content(seed: u64, len: usize) -> Vec<u8> {
    Rng::new(seed).bytes(len)
}

/// A manager with an engine and the HTTP transport (short timeouts), no store.
fn manager() -> Manager {
    Manager::builder().transport(Arc::new(transport())).build()
}

/// A job with one file from `url` into `dir`, direct (no proxy from the environment), not yet
/// resumed.
fn job(manager: &Manager, dir: &std::path::Path, url: &str) -> Job {
    let job = manager.create_job("sources", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.add_file(url, &dir.join("out.bin")).unwrap();
    job
}

fn settled(job: &Job) -> BgJobState {
    job.wait_until(PATIENCE, |s| {
        matches!(s, BgJobState::Transferred | BgJobState::Error | BgJobState::TransientError)
    })
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

fn not_found() -> Reply {
    Reply::new(404).body("no")
}

fn unavailable() -> Reply {
    Reply::new(503).body("busy")
}

/// An origin that sends the first `after` bytes of `resource` and cuts the connection, then
/// answers every later request `503`.
fn cut_then_unavailable(resource: Resource, after: usize) -> Server {
    Server::start(
        move |r| if r.seq == 0 { resource.respond(r).cut_after(after) } else { unavailable() },
    )
}

// ---- mirrors ----

#[test]
fn a_fatal_error_of_the_origin_hands_the_file_to_its_mirror() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(1, 40_000);
    let origin = Server::start(|_| not_found());
    let mirror = Resource::new(data.clone(), "m").serve();
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    let file = job.enum_files().remove(0);
    file.set_mirrors(&[&mirror.url("/f")]).unwrap();
    job.resume().unwrap();
    assert_eq!(
        settled(&job),
        BgJobState::Transferred,
        "{:?}",
        job.get_error().map(|e| e.message().to_owned())
    );
    assert_eq!(file.current_source(), mirror.url("/f"));
    assert_eq!(file.get_remote_name(), origin.url("/f"), "the caller's name is kept");
    assert_eq!(origin.requests().len(), 1, "a fatal error is not asked again");
    assert_eq!(completed_content(&job), data);
}

#[test]
fn two_transient_errors_in_a_row_hand_the_file_to_the_next_source() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(2, 10_000);
    let origin = Server::start(|_| unavailable());
    let first_mirror = Server::start(|_| unavailable());
    let second_mirror = Resource::new(data.clone(), "m").serve();
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    let file = job.enum_files().remove(0);
    file.set_mirrors(&[&first_mirror.url("/f"), &second_mirror.url("/f")]).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    assert_eq!(origin.requests().len(), 2);
    assert_eq!(first_mirror.requests().len(), 2);
    assert_eq!(file.current_source(), second_mirror.url("/f"));
    assert_eq!(completed_content(&job), data);
}

#[test]
fn the_job_goes_to_error_only_when_every_source_failed_fatally() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Server::start(|_| not_found());
    let mirror = Server::start(|_| Reply::new(410).body("gone"));
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.enum_files()[0].set_mirrors(&[&mirror.url("/f")]).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Error);
    assert_eq!(
        job.get_error().unwrap().get_error().1,
        0x8019_019A,
        "the last source's error (410)"
    );
    assert_eq!((origin.requests().len(), mirror.requests().len()), (1, 1));
}

#[test]
fn a_source_that_failed_only_transiently_keeps_the_job_retrying() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Server::start(|_| unavailable());
    let mirror = Server::start(|_| not_found());
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.enum_files()[0].set_mirrors(&[&mirror.url("/f")]).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::TransientError);
    assert!(job.get_error().unwrap().get_error().1 != 0);
    // The next round begins with the remote name.
    assert_eq!(job.enum_files()[0].current_source(), origin.url("/f"));
    job.cancel().unwrap();
}

#[test]
fn a_stalled_read_hands_the_file_to_the_next_source_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(3, 50_000);
    let stalled = Resource::new(data.clone(), "same");
    let origin = Server::start(move |r| stalled.respond(r).stall(2_000, FOREVER));
    let mirror = Resource::new(data.clone(), "same").serve();
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.set_http_timeouts(None, Some(Duration::from_millis(300))).unwrap();
    job.enum_files()[0].set_mirrors(&[&mirror.url("/f")]).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    assert_eq!(origin.requests().len(), 1, "a stall is not asked again");
    assert_eq!(completed_content(&job), data);
}

#[test]
fn the_next_source_is_asked_only_for_what_is_missing_when_it_serves_the_same_content() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(4, 64_000);
    let origin = cut_then_unavailable(Resource::new(data.clone(), "v1"), 20_000);
    let mirror = Resource::new(data.clone(), "v1").serve();
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.enum_files()[0].set_mirrors(&[&mirror.url("/f")]).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    let asked = mirror.requests();
    assert_eq!(asked.len(), 1);
    let start = asked[0].range_start().expect("the mirror is asked for a range");
    assert!(start > 0, "the bytes from the origin are kept");
    assert_eq!(asked[0].header("if-range"), Some("\"v1\""));
    assert_eq!(completed_content(&job), data);
}

#[test]
fn a_source_with_another_validator_restarts_the_file_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(5, 64_000);
    let origin = cut_then_unavailable(Resource::new(data.clone(), "v1"), 20_000);
    let other = content(6, 30_000);
    let mirror = Resource::new(other.clone(), "v2").serve();
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.enum_files()[0].set_mirrors(&[&mirror.url("/f")]).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    assert_eq!(completed_content(&job), other, "no byte of the origin's content is joined");
}

#[test]
fn with_an_expected_sha256_bytes_from_sources_with_other_validators_are_joined() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(26, 64_000);
    let origin = cut_then_unavailable(Resource::new(data.clone(), "origin-etag"), 20_000);
    // The same bytes under another validator (a CDN of its own): the digest judges them.
    let mirror = Resource::new(data.clone(), "mirror-etag").serve();
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    let file = job.enum_files().remove(0);
    file.set_expected_sha256(Some(sha256(&data))).unwrap();
    file.set_mirrors(&[&mirror.url("/f")]).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    let asked = mirror.requests();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].range_start().is_some_and(|start| start > 0), "{:?}", asked[0]);
    assert_eq!(completed_content(&job), data);
}

// ---- a new remote name ----

#[test]
fn set_remote_name_takes_effect_in_a_running_transfer_and_keeps_bytes_of_the_same_content() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(7, 80_000);
    let expiring = Resource::new(data.clone(), "same");
    // An expiring signed URL: it serves part of the file, then stalls.
    let old = Server::start(move |r| expiring.respond(r).stall(30_000, FOREVER));
    let new = Resource::new(data.clone(), "same").serve();
    let manager = manager();
    let job = job(&manager, dir.path(), &old.url("/f?sig=old"));
    job.resume().unwrap();
    wait_for_bytes(&job, 10_000);
    let file = job.enum_files().remove(0);
    file.set_remote_name(&new.url("/f?sig=new")).unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    assert_eq!(file.get_remote_name(), new.url("/f?sig=new"));
    let asked = new.requests();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].range_start().is_some_and(|start| start >= 10_000), "{:?}", asked[0]);
    assert_eq!(completed_content(&job), data);
}

#[test]
fn set_remote_name_to_other_content_restarts_the_file_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(8, 80_000);
    let expiring = Resource::new(data.clone(), "old");
    let old = Server::start(move |r| expiring.respond(r).stall(30_000, FOREVER));
    let other = content(9, 50_000);
    let new = Resource::new(other.clone(), "new").serve();
    let manager = manager();
    let job = job(&manager, dir.path(), &old.url("/f"));
    job.resume().unwrap();
    wait_for_bytes(&job, 10_000);
    job.enum_files()[0].set_remote_name(&new.url("/f")).unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    assert_eq!(completed_content(&job), other);
}

#[test]
fn replace_remote_prefix_moves_every_file_to_the_new_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(10, 5_000);
    let old = Server::start(|_| Reply::new(403).body("expired"));
    let new = Resource::new(data.clone(), "x").serve();
    let manager = manager();
    let job = job(&manager, dir.path(), &old.url("/f"));
    job.replace_remote_prefix(&old.url(""), &new.url("")).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    assert!(old.requests().is_empty());
    assert_eq!(completed_content(&job), data);
}

// ---- what the sink reports ----

#[test]
fn the_response_headers_of_the_last_response_are_kept_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(11, 1_000);
    let resource = Resource::new(data, "h");
    let origin = Server::start(move |r| resource.respond(r).header("X-Served-By", "loopback"));
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    let file = &job.enum_files()[0];
    let BgFileProperty::HttpResponseHeaders(headers) =
        BackgroundCopyFile5::get_property(file, BgFilePropertyId::HttpResponseHeaders).unwrap()
    else {
        panic!("headers")
    };
    // Header names are case-insensitive (HTTP/1.1); the transport may spell them in lower case.
    assert!(headers.to_ascii_lowercase().contains("x-served-by: loopback\r\n"), "{headers:?}");
    assert!(headers.ends_with("\r\n"));
}

#[test]
fn bytes_from_the_origin_are_counted_as_from_the_origin() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(12, 3_000);
    let origin = Resource::new(data, "o").serve();
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    let file = &job.enum_files()[0];
    assert_eq!(file.get_peer_download_stats(), (3_000, 0));
    assert!(!file.is_downloaded_from_peer());
}

#[test]
fn with_allow_report_the_remote_name_becomes_the_url_a_redirect_led_to() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(21, 3_000);
    let target = Resource::new(data.clone(), "r").serve();
    let moved = target.url("/moved");
    let origin = Server::start(move |_| Reply::new(302).header("Location", moved.clone()));
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.set_security_flags(BgHttpSecurity::REDIRECT_POLICY_ALLOW_REPORT).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    assert_eq!(job.enum_files()[0].get_remote_name(), target.url("/moved"));
    assert_eq!(completed_content(&job), data);
}

#[test]
fn a_remote_name_a_reported_redirect_rewrote_never_earns_the_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(24, 20_000);
    let resource = Resource::new(data.clone(), "r");
    // The target cuts its first answer short: the next request goes to it directly, as the
    // file's remote name now.
    let target = Server::start(move |r| {
        if r.seq == 0 { resource.respond(r).cut_after(5_000) } else { resource.respond(r) }
    });
    let moved = target.url("/moved");
    let origin = Server::start(move |_| Reply::new(302).header("Location", moved.clone()));
    let clock = Arc::new(ManualClock::new());
    let manager = Manager::builder().transport(Arc::new(transport())).clock(clock.clone()).build();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.set_custom_headers(&[("X-Api-Key", "s3cr3t-value")]).unwrap();
    job.set_security_flags(BgHttpSecurity::REDIRECT_POLICY_ALLOW_REPORT).unwrap();
    job.set_minimum_retry_delay(Duration::from_secs(5)).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::TransientError);
    assert_eq!(job.enum_files()[0].get_remote_name(), target.url("/moved"));
    manager.wait_engine_pass();
    clock.advance(Duration::from_secs(5));
    let state =
        job.wait_until(PATIENCE, |s| matches!(s, BgJobState::Transferred | BgJobState::Error));
    assert_eq!(state, BgJobState::Transferred);
    let asked = target.requests();
    assert!(asked.len() >= 2, "{asked:?}");
    assert!(asked.iter().all(|r| r.header("x-api-key").is_none()), "{asked:?}");
    assert_eq!(origin.requests()[0].header("x-api-key"), Some("s3cr3t-value"));
    assert_eq!(completed_content(&job), data);
}

#[test]
fn with_allow_silent_the_remote_name_stays_what_the_caller_gave() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(22, 3_000);
    let target = Resource::new(data, "r").serve();
    let moved = target.url("/moved");
    let origin = Server::start(move |_| Reply::new(302).header("Location", moved.clone()));
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    assert_eq!(job.enum_files()[0].get_remote_name(), origin.url("/f"));
}

#[test]
fn segments_keep_working_on_a_mirror() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(23, 6 << 20);
    let origin = Server::start(|_| not_found());
    let mirror = Resource::new(data.clone(), "seg").serve();
    let manager = manager();
    let job = job(&manager, dir.path(), &origin.url("/big"));
    job.set_max_connections(4).unwrap();
    job.enum_files()[0].set_mirrors(&[&mirror.url("/big")]).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    let ranged = mirror.requests().iter().filter(|r| r.bounded_range().is_some()).count();
    assert!(ranged >= 2, "the mirror served the file in segments ({ranged} ranged requests)");
    assert_eq!(job.enum_files()[0].get_peer_download_stats(), (6 << 20, 0));
    assert_eq!(completed_content(&job), data);
}

/// A manager whose cache host is `cache`.
fn cached_manager(cache: &Server) -> Manager {
    Manager::builder()
        .transport(Arc::new(transport()))
        .cache_host(&format!("127.0.0.1:{}", cache.port()))
        .build()
}

#[test]
fn bytes_from_the_cache_host_count_as_from_peers() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(13, 4_000);
    let cache = Resource::new(data.clone(), "c").serve();
    let origin = Server::start(|_| not_found());
    let manager = cached_manager(&cache);
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    let file = &job.enum_files()[0];
    assert_eq!(file.get_peer_download_stats(), (0, 4_000));
    assert!(file.is_downloaded_from_peer());
    assert!(origin.requests().is_empty());
    assert!(cache.requests()[0].target.contains("cacheHostOrigin=127.0.0.1:"));
    assert_eq!(completed_content(&job), data);
}

#[test]
fn without_enable_client_the_cache_host_is_not_asked() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(14, 2_000);
    let cache = Server::start(|_| not_found());
    let origin = Resource::new(data.clone(), "o").serve();
    let manager = cached_manager(&cache);
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.set_peer_caching_flags(BgPeerCaching::empty()).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    assert!(cache.requests().is_empty());
    assert_eq!(job.enum_files()[0].get_peer_download_stats(), (2_000, 0));
}

#[test]
fn bytes_from_the_cache_that_fail_the_expected_sha256_send_the_file_to_the_origin() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(15, 6_000);
    let digest: [u8; 32] = sha256(&data);
    let cache = Resource::new(content(16, 6_000), "c").serve();
    let origin = Resource::new(data.clone(), "o").serve();
    let manager = cached_manager(&cache);
    let job = job(&manager, dir.path(), &origin.url("/f"));
    let file = job.enum_files().remove(0);
    file.set_expected_sha256(Some(digest)).unwrap();
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred, "the job still finishes");
    assert_eq!(origin.requests().len(), 1);
    assert_eq!(file.get_peer_download_stats(), (6_000, 0));
    assert!(!file.is_downloaded_from_peer());
    assert_eq!(completed_content(&job), data);
}

#[test]
fn set_validation_state_false_on_a_file_from_a_peer_fetches_it_again_from_the_origin() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(19, 5_000);
    let cache = Resource::new(content(20, 5_000), "c").serve();
    let origin = Resource::new(data.clone(), "o").serve();
    let manager = cached_manager(&cache);
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    let file = job.enum_files().remove(0);
    assert!(file.is_downloaded_from_peer());
    assert!(origin.requests().is_empty());
    let events = job.subscribe();
    file.set_validation_state(false).unwrap();
    // Fetched again: the job leaves Transferred and comes back to it.
    for event in events {
        if let Notification::StateChanged { state: BgJobState::Queued, .. } = event {
            break;
        }
    }
    assert_eq!(settled(&job), BgJobState::Transferred);
    assert_eq!(origin.requests().len(), 1);
    assert_eq!(cache.requests().len(), 1, "the cache is not asked again");
    assert_eq!(file.get_peer_download_stats(), (5_000, 0));
    assert!(!file.is_downloaded_from_peer());
    assert_eq!(completed_content(&job), data);
}

/// SHA-256 of `data` (the crate's own dependency).
fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

// ---- the store ----

#[test]
fn a_reopened_job_resumes_on_the_source_it_was_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let data = content(17, 40_000);
    let origin = Server::start(|_| not_found());
    let stalling = Resource::new(data.clone(), "m");
    // The mirror stalls the first time (the job is suspended meanwhile), then serves.
    let mirror_first = Server::start(move |r| {
        if r.seq == 0 { stalling.respond(r).stall(10_000, FOREVER) } else { stalling.respond(r) }
    });
    let id = {
        let manager =
            Manager::builder().transport(Arc::new(transport())).store(&store).try_build().unwrap();
        let job = job(&manager, dir.path(), &origin.url("/f"));
        job.enum_files()[0].set_mirrors(&[&mirror_first.url("/f")]).unwrap();
        job.resume().unwrap();
        wait_for_bytes(&job, 5_000);
        job.suspend().unwrap();
        assert_eq!(job.enum_files()[0].current_source(), mirror_first.url("/f"));
        job.get_id()
    };
    let origin_asked = origin.requests().len();
    let manager =
        Manager::builder().transport(Arc::new(transport())).store(&store).try_build().unwrap();
    let job = manager.get_job(id).unwrap();
    assert_eq!(job.enum_files()[0].current_source(), mirror_first.url("/f"));
    assert_eq!(job.enum_files()[0].get_mirrors(), [mirror_first.url("/f")]);
    job.resume().unwrap();
    assert_eq!(settled(&job), BgJobState::Transferred);
    assert_eq!(origin.requests().len(), origin_asked, "nothing asked of the origin again");
    assert_eq!(completed_content(&job), data);
}

// ---- the maximum download time ----

#[test]
fn the_maximum_download_time_puts_a_job_with_a_blocked_read_in_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(18, 40_000);
    let resource = Resource::new(data, "t");
    let origin = Server::start(move |r| resource.respond(r).stall(5_000, FOREVER));
    let clock = Arc::new(ManualClock::new());
    let manager = Manager::builder()
        .transport(Arc::new(
            HttpTransport::new().with_timeouts(Duration::from_secs(5), Duration::from_secs(600)),
        ))
        .clock(clock.clone())
        .build();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.set_maximum_download_time(Duration::from_secs(60)).unwrap();
    job.resume().unwrap();
    wait_for_bytes(&job, 1);
    // The scheduler has seen the job transferring once this pass is over.
    manager.wait_engine_pass();
    clock.advance(Duration::from_secs(59));
    manager.wait_engine_pass();
    assert_eq!(job.get_state(), BgJobState::Transferring, "59 s are not 60");
    clock.advance(Duration::from_secs(1));
    assert_eq!(settled(&job), BgJobState::Error);
    let (_, hresult) = job.get_error().unwrap().get_error();
    assert_eq!(hresult, hresult::BG_E_MAXDOWNLOAD_TIMEOUT);
}

#[test]
fn only_time_transferring_counts_and_resume_restarts_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(25, 40_000);
    let resource = Resource::new(data, "t");
    // A slow link (100 bytes every 50 ms: the file takes 20 s), so the transfer is still going
    // when the test ends, and a suspend stops it at its next write.
    let origin = Server::start(move |r| resource.respond(r).pace(100, Duration::from_millis(50)));
    let clock = Arc::new(ManualClock::new());
    let manager = Manager::builder()
        .transport(Arc::new(
            HttpTransport::new().with_timeouts(Duration::from_secs(5), Duration::from_secs(600)),
        ))
        .clock(clock.clone())
        .build();
    let job = job(&manager, dir.path(), &origin.url("/f"));
    job.set_maximum_download_time(Duration::from_secs(60)).unwrap();
    job.resume().unwrap();
    wait_for_bytes(&job, 1);
    manager.wait_engine_pass();
    clock.advance(Duration::from_secs(50));
    manager.wait_engine_pass();
    // Suspended for an hour: not counted.
    job.suspend().unwrap();
    manager.wait_engine_pass();
    clock.advance(Duration::from_secs(3600));
    manager.wait_engine_pass();
    // resume() restarts the count: 50 s more are within a fresh 60 s.
    job.resume().unwrap();
    job.wait_until(PATIENCE, |s| s == BgJobState::Transferring);
    manager.wait_engine_pass();
    clock.advance(Duration::from_secs(50));
    manager.wait_engine_pass();
    assert_eq!(job.get_state(), BgJobState::Transferring);
    clock.advance(Duration::from_secs(10));
    assert_eq!(settled(&job), BgJobState::Error);
    assert_eq!(job.get_error().unwrap().get_error().1, hresult::BG_E_MAXDOWNLOAD_TIMEOUT);
}
