//! Ranged files (DESIGN 6.3, `add_file_with_ranges`): only the given ranges of the remote file,
//! back to back in the order given, through the engine, against loopback servers that serve
//! ranges, ignore them, and send chunked bodies; and through the local transport.

use crate::http_support::{Framing, Resource, Rng, Server};
use bgcopy::*;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);

fn r(initial_offset: u64, length: u64) -> BgFileRange {
    BgFileRange { initial_offset, length }
}

fn content(len: usize) -> Vec<u8> {
    Rng::new(len as u64).bytes(len)
}

/// A job with one ranged file from `url` into `dir/out.bin`, direct (no proxy).
fn ranged_job(manager: &Manager, dir: &Path, url: &str, ranges: &[BgFileRange]) -> Job {
    let job = manager.create_job("ranges", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.add_file_with_ranges(url, &dir.join("out.bin"), ranges).unwrap();
    job
}

/// What the ranges select of `content`, back to back in the order given.
fn selected(content: &[u8], ranges: &[BgFileRange]) -> Vec<u8> {
    let mut out = Vec::new();
    for range in ranges {
        let start = range.initial_offset as usize;
        let end = range.end().map_or(content.len(), |end| end as usize);
        out.extend_from_slice(&content[start..end]);
    }
    out
}

fn finished(job: &Job) -> Vec<u8> {
    assert_eq!(
        job.wait(LONG),
        BgJobState::Transferred,
        "{:?}",
        job.get_error().map(|e| e.get_error())
    );
    job.complete().unwrap();
    std::fs::read(job.enum_files()[0].get_local_name()).unwrap()
}

fn failed_with(job: &Job) -> u32 {
    assert_eq!(job.wait(LONG), BgJobState::Error);
    job.get_error().unwrap().get_error().1
}

#[test]
fn a_ranged_file_holds_only_its_ranges_back_to_back_in_the_order_given() {
    let data = content(64 * 1024);
    let resource = Resource::new(data.clone(), "v1");
    let server = Server::start(move |request| resource.respond(request));
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let ranges = [r(40_000, 1000), r(0, 50), r(60_000, BG_LENGTH_TO_EOF)];
    let job = ranged_job(&manager, dir.path(), &server.url("/f"), &ranges);
    job.resume().unwrap();
    let got = finished(&job);
    assert_eq!(got, selected(&data, &ranges));
    assert_eq!(got.len(), 1000 + 50 + (64 * 1024 - 60_000));
    // Every request asked for a range; none for the whole file.
    let asked: Vec<_> =
        server.requests().iter().map(|q| q.header("range").map(str::to_owned)).collect();
    assert_eq!(
        asked,
        [
            Some("bytes=40000-40999".to_owned()),
            Some("bytes=0-49".to_owned()),
            Some("bytes=60000-".to_owned())
        ]
    );
}

#[test]
fn ranges_as_given_come_back_as_given_and_a_whole_file_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().without_engine().build();
    let ranges = [r(500, 10), r(0, 1), r(10_000, BG_LENGTH_TO_EOF)];
    let job = ranged_job(&manager, dir.path(), "https://example.com/f", &ranges);
    job.add_file("https://example.com/g", &dir.path().join("whole.bin")).unwrap();
    let files = job.enum_files();
    assert_eq!(files[0].get_file_ranges(), ranges);
    assert!(files[1].get_file_ranges().is_empty());
}

#[test]
fn bad_ranges_are_refused_when_added_with_the_hresults_of_bits() {
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("refused", BgJobType::Download).unwrap();
    let out = dir.path().join("out.bin");
    let url = "https://example.com/f";
    let code =
        |ranges: &[BgFileRange]| job.add_file_with_ranges(url, &out, ranges).unwrap_err().hresult();
    assert_eq!(code(&[r(0, 10), r(9, 10)]), hresult::BG_E_OVERLAPPING_RANGES);
    assert_eq!(code(&[r(100, BG_LENGTH_TO_EOF), r(200, 1)]), hresult::BG_E_OVERLAPPING_RANGES);
    assert_eq!(code(&[r(0, 0)]), hresult::BG_E_INVALID_RANGE);
    assert_eq!(code(&[r(u64::MAX, 1)]), hresult::BG_E_INVALID_RANGE);
    let many: Vec<_> = (0..501).map(|i| r(i * 2, 1)).collect();
    assert_eq!(code(&many), hresult::BG_E_TOO_MANY_RANGES_IN_FILE);
    assert_eq!(code(&[]), hresult::E_INVALIDARG);
    assert!(job.enum_files().is_empty(), "nothing was added");
    job.add_file_with_ranges(url, &out, &many[..500]).unwrap();
    assert_eq!(job.enum_files()[0].get_file_ranges().len(), 500);
}

#[test]
fn a_server_that_ignores_ranges_fails_the_file_with_insufficient_range_support() {
    let data = content(10_000);
    let resource = Resource::new(data, "v1");
    let server = Server::start(move |_| resource.full());
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let job = ranged_job(&manager, dir.path(), &server.url("/f"), &[r(100, 10)]);
    job.resume().unwrap();
    assert_eq!(failed_with(&job), hresult::BG_E_INSUFFICIENT_RANGE_SUPPORT);
    assert_eq!(job.get_progress().bytes_transferred, 0);
}

#[test]
fn a_range_from_zero_is_served_by_a_server_that_ignores_ranges() {
    let data = content(10_000);
    let resource = Resource::new(data.clone(), "v1");
    let server = Server::start(move |_| resource.full());
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let ranges = [r(0, 300)];
    let job = ranged_job(&manager, dir.path(), &server.url("/f"), &ranges);
    job.resume().unwrap();
    assert_eq!(finished(&job), selected(&data, &ranges));
}

#[test]
fn a_range_past_the_end_of_the_remote_file_is_an_invalid_range_before_any_byte_is_written() {
    let data = content(10_000);
    let resource = Resource::new(data, "v1");
    let server = Server::start(move |request| resource.respond(request));
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    // The first range is fine, the second runs past the end: found from the first response.
    let job = ranged_job(&manager, dir.path(), &server.url("/f"), &[r(0, 10), r(9_990, 20)]);
    job.resume().unwrap();
    assert_eq!(failed_with(&job), hresult::BG_E_INVALID_RANGE);
    assert_eq!(job.get_progress().bytes_transferred, 0);
    // A range that starts past the end: the server answers 416.
    let job = ranged_job(&manager, dir.path(), &server.url("/g"), &[r(20_000, 5)]);
    job.resume().unwrap();
    assert_eq!(failed_with(&job), hresult::BG_E_INVALID_RANGE);
}

#[test]
fn ranges_arrive_whole_over_chunked_bodies() {
    let data = content(100_000);
    let resource = Resource::new(data.clone(), "v1");
    let server = Server::start(move |request| resource.respond(request).framing(Framing::Chunked));
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let ranges = [r(99_000, BG_LENGTH_TO_EOF), r(10, 70_000)];
    let job = ranged_job(&manager, dir.path(), &server.url("/f"), &ranges);
    job.resume().unwrap();
    assert_eq!(finished(&job), selected(&data, &ranges));
}

#[test]
fn a_cut_range_resumes_at_the_byte_after_the_last_one_written() {
    let data = content(200_000);
    let resource = Resource::new(data.clone(), "v1");
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let server = Server::start(move |request| {
        let mut reply = resource.respond(request);
        // The first answer ends after 5,000 bytes of its body: the connection closes.
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            reply.body.truncate(5_000);
            reply = reply.framing(Framing::Close);
        }
        reply
    });
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let ranges = [r(1_000, 50_000), r(150_000, 10_000)];
    let job = ranged_job(&manager, dir.path(), &server.url("/f"), &ranges);
    job.resume().unwrap();
    let state = job.wait_until(LONG, |s| s.is_settled() || s == BgJobState::TransientError);
    assert_eq!(state, BgJobState::TransientError);
    assert_eq!(job.get_progress().bytes_transferred, 5_000);
    job.resume().unwrap();
    assert_eq!(finished(&job), selected(&data, &ranges));
    let requests = server.requests();
    assert_eq!(requests[1].header("range"), Some("bytes=6000-50999"));
    assert_eq!(requests[1].header("if-range"), Some("\"v1\""), "the earlier bytes' content");
}

#[test]
fn a_ranged_file_copies_its_ranges_from_a_local_path_and_a_file_url() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(300_000);
    let source = dir.path().join("source.bin");
    std::fs::write(&source, &data).unwrap();
    let manager = Manager::new();
    let ranges = [r(250_000, BG_LENGTH_TO_EOF), r(7, 3), r(100_000, 100_000)];
    let url = url::Url::from_file_path(&source).unwrap().to_string();
    for (name, remote) in [("path", source.to_str().unwrap().to_owned()), ("url", url)] {
        let out = dir.path().join(name);
        std::fs::create_dir(&out).unwrap();
        let job = ranged_job(&manager, &out, &remote, &ranges);
        job.resume().unwrap();
        assert_eq!(finished(&job), selected(&data, &ranges), "{name}");
    }
    let out = dir.path().join("past");
    std::fs::create_dir(&out).unwrap();
    let job = ranged_job(&manager, &out, source.to_str().unwrap(), &[r(299_999, 2)]);
    job.resume().unwrap();
    assert_eq!(failed_with(&job), hresult::BG_E_INVALID_RANGE);
}

#[test]
fn a_reopened_store_keeps_the_ranges_and_finishes_the_file_from_where_it_stopped() {
    let data = content(500_000);
    let source = tempfile::tempdir().unwrap();
    let path = source.path().join("source.bin");
    std::fs::write(&path, &data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let ranges = [r(400_000, BG_LENGTH_TO_EOF), r(10, 20)];
    let id = {
        let manager = Manager::builder().without_engine().store(&store).try_build().unwrap();
        let job = ranged_job(&manager, dir.path(), path.to_str().unwrap(), &ranges);
        job.get_id()
    };
    let manager = Manager::builder().store(&store).try_build().unwrap();
    let job = manager.get_job(id).unwrap();
    assert_eq!(job.enum_files()[0].get_file_ranges(), ranges);
    job.resume().unwrap();
    assert_eq!(finished(&job), selected(&data, &ranges));
}
