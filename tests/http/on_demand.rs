//! On-demand jobs (DESIGN 6.3, `OnDemandMode(true)`): only what is asked for is fetched, the job
//! goes `Suspended` (or `Transferred`) when it has it and moves on by itself when asked for more,
//! and a `FileReader` reads while the file downloads. Against loopback servers that serve
//! ranges, ignore them and cap their rate.

use crate::http_support::{Framing, Reply, Resource, Rng, Server};
use bgcopy::*;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);
const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

fn r(initial_offset: u64, length: u64) -> BgFileRange {
    BgFileRange { initial_offset, length }
}

fn content(len: u64) -> Vec<u8> {
    Rng::new(len).bytes(len as usize)
}

fn on_demand_job(manager: &Manager, dir: &Path, url: &str) -> (Job, JobFile) {
    let job = manager.create_job("on demand", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.set_property(BgJobProperty::OnDemandMode(true)).unwrap();
    job.add_file(url, &dir.join("out.bin")).unwrap();
    let file = job.enum_files().remove(0);
    (job, file)
}

/// The bytes the server sent for each GET, as `(first, last)` from its `Range` header.
fn asked(server: &Server) -> Vec<String> {
    server.requests().iter().filter_map(|q| q.header("range").map(str::to_owned)).collect()
}

fn served(data: &[u8]) -> Server {
    let resource = Resource::new(data.to_vec(), "v1");
    Server::start(move |request| resource.respond(request))
}

fn suspended_or_transferred(job: &Job) -> BgJobState {
    job.wait_until(LONG, |s| {
        matches!(s, BgJobState::Suspended | BgJobState::Transferred | BgJobState::Error)
    })
}

#[test]
fn an_on_demand_job_fetches_only_what_is_asked_and_then_suspends() {
    let data = content(4 * MIB);
    let server = served(&data);
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    file.request_file_ranges(&[r(3 * MIB, 64 * KIB), r(10, 90)]).unwrap();
    job.resume().unwrap();
    job.wait_until(LONG, |s| s == BgJobState::Transferring || s.is_settled());
    assert_eq!(suspended_or_transferred(&job), BgJobState::Suspended);
    assert_eq!(file.get_filled_file_ranges(), [r(10, 90), r(3 * MIB, 64 * KIB)]);
    assert_eq!(job.get_progress().bytes_transferred, 64 * KIB + 90);
    assert_eq!(job.get_progress().bytes_total, 4 * MIB, "the size is the remote file's");
    // Only bounded ranges were asked for.
    assert!(asked(&server).iter().all(|range| !range.ends_with('-')), "{:?}", asked(&server));
    let temp = std::fs::read(file.get_temporary_name().unwrap()).unwrap();
    assert_eq!(&temp[10..100], &data[10..100]);
    assert_eq!(
        &temp[3 * MIB as usize..][..64 * KIB as usize],
        &data[3 * MIB as usize..][..64 * KIB as usize]
    );
}

#[test]
fn asking_for_more_moves_a_suspended_job_on_without_resume_and_all_bytes_make_it_transferred() {
    let data = content(300 * KIB);
    let server = served(&data);
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    file.request_file_ranges(&[r(0, 100)]).unwrap();
    job.resume().unwrap();
    job.wait_until(LONG, |s| s != BgJobState::Queued && s != BgJobState::Suspended);
    assert_eq!(suspended_or_transferred(&job), BgJobState::Suspended);
    file.request_file_ranges(&[r(100, BG_LENGTH_TO_EOF)]).unwrap();
    assert_ne!(job.get_state(), BgJobState::Suspended, "the request moved the job on");
    assert_eq!(suspended_or_transferred(&job), BgJobState::Transferred);
    assert_eq!(file.get_filled_file_ranges(), [r(0, 300 * KIB)]);
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("out.bin")).unwrap(), data);
}

#[test]
fn ranges_past_the_end_and_calls_on_jobs_not_on_demand_are_refused() {
    let data = content(1000);
    let server = served(&data);
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    file.request_file_ranges(&[r(0, 10)]).unwrap();
    job.resume().unwrap();
    job.wait_until(LONG, |s| s != BgJobState::Queued && s != BgJobState::Suspended);
    assert_eq!(suspended_or_transferred(&job), BgJobState::Suspended);
    let code = |ranges: &[BgFileRange]| file.request_file_ranges(ranges).unwrap_err().hresult();
    assert_eq!(code(&[r(1000, 1)]), hresult::BG_E_INVALID_RANGE);
    assert_eq!(code(&[r(990, 11)]), hresult::BG_E_INVALID_RANGE);
    assert_eq!(code(&[r(5, 0)]), hresult::BG_E_INVALID_RANGE);
    assert_eq!(
        file.update_download_position(1001).unwrap_err().hresult(),
        hresult::BG_E_INVALID_RANGE
    );
    file.update_download_position(1000).unwrap();

    let plain = manager.create_job("plain", BgJobType::Download).unwrap();
    plain.add_file(&server.url("/f"), &dir.path().join("plain.bin")).unwrap();
    let plain_file = plain.enum_files().remove(0);
    assert_eq!(
        plain_file.request_file_ranges(&[r(0, 1)]).unwrap_err().hresult(),
        hresult::BG_E_INVALID_STATE
    );
    assert_eq!(plain_file.open_reader().unwrap_err().hresult(), hresult::BG_E_INVALID_STATE);
    // Set once files are there: too late.
    assert_eq!(
        plain.set_property(BgJobProperty::OnDemandMode(true)).unwrap_err().hresult(),
        hresult::BG_E_INVALID_STATE
    );
}

#[test]
fn a_server_without_range_support_gives_random_access_not_supported() {
    let data = content(100 * KIB);
    let resource = Resource::new(data, "v1");
    let server = Server::start(move |_| resource.full());
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    file.request_file_ranges(&[r(50 * KIB, 10)]).unwrap();
    job.resume().unwrap();
    assert_eq!(job.wait(LONG), BgJobState::Error);
    assert_eq!(job.get_error().unwrap().get_error().1, hresult::BG_E_RANDOM_ACCESS_NOT_SUPPORTED);
}

#[test]
fn the_bytes_after_the_reader_come_before_ranges_asked_earlier() {
    let data = content(8 * MIB);
    let server = served(&data);
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    // Asked for first: the start; then a reader at 6 MiB asks for the bytes after it. Both
    // before the job runs, so the order of the requests is the engine's choice alone.
    file.request_file_ranges(&[r(0, 2 * MIB)]).unwrap();
    file.request_file_ranges(&[r(6 * MIB, MIB)]).unwrap();
    file.update_download_position(6 * MIB).unwrap();
    job.resume().unwrap();
    job.wait_until(LONG, |s| s != BgJobState::Queued && s != BgJobState::Suspended);
    assert_eq!(suspended_or_transferred(&job), BgJobState::Suspended);
    let order = asked(&server);
    assert_eq!(order[0], format!("bytes={}-{}", 6 * MIB, 7 * MIB - 1), "{order:?}");
    assert_eq!(order[1], format!("bytes=0-{}", MIB - 1), "{order:?}");
    assert_eq!(file.get_filled_file_ranges(), [r(0, 2 * MIB), r(6 * MIB, MIB)]);
}

#[test]
fn a_reader_in_the_middle_gets_its_bytes_long_before_the_file_could_have_arrived() {
    // 16 MiB from a server capped at 256 KiB every 10 ms: the whole would take 640 ms of
    // pacing; the read from the middle needs one chunk. The test does not time it: it checks
    // that when the read returned, most of the file was not there.
    let data = content(16 * MIB);
    let resource = Resource::new(data.clone(), "v1");
    let server = Server::start(move |request| {
        resource.respond(request).pace(256 * KIB as usize, Duration::from_millis(10))
    });
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    job.resume().unwrap();
    let mut reader = file.open_reader().unwrap();
    reader.seek(SeekFrom::Start(9 * MIB + 5)).unwrap();
    let mut buf = vec![0u8; 1000];
    reader.read_exact(&mut buf).unwrap();
    assert_eq!(buf, data[(9 * MIB + 5) as usize..][..1000]);
    let filled: u64 = file.get_filled_file_ranges().iter().map(|range| range.length).sum();
    assert!(filled <= 2 * MIB, "only what the read asked for: {filled}");
    assert!(file.get_filled_file_ranges()[0].initial_offset >= 9 * MIB);
    // The tail through seek from the end, as a zip reader does.
    reader.seek(SeekFrom::End(-64 * KIB as i64)).unwrap();
    let mut tail = Vec::new();
    reader.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, data[data.len() - 64 * KIB as usize..]);
}

#[test]
fn a_file_reader_is_send() {
    fn send<T: Send + Read + Seek>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().without_engine().build();
    let (_job, file) = on_demand_job(&manager, dir.path(), "https://example.com/f");
    let reader = file.open_reader().unwrap();
    send(&reader);
    std::thread::spawn(move || drop(reader)).join().unwrap();
}

#[test]
fn a_reader_streams_the_whole_file_in_order_over_chunked_bodies() {
    let data = content(3 * MIB + 17);
    let resource = Resource::new(data.clone(), "v1");
    let server = Server::start(move |request| resource.respond(request).framing(Framing::Chunked));
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    job.resume().unwrap();
    let mut reader = file.open_reader().unwrap();
    let mut all = Vec::new();
    reader.read_to_end(&mut all).unwrap();
    assert!(all == data, "the stream differs from the content");
    assert_eq!(suspended_or_transferred(&job), BgJobState::Transferred);
}

#[test]
fn a_blocked_read_ends_with_an_error_when_the_job_is_cancelled_or_fails() {
    let data = content(MIB);
    let server = served(&data);
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    // Never resumed: the read asks, and waits, until the job is cancelled.
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    let mut reader = file.open_reader().unwrap();
    let cancel = {
        let job = job.clone();
        std::thread::spawn(move || job.cancel().unwrap())
    };
    let mut buf = [0u8; 10];
    let error = reader.read(&mut buf).unwrap_err();
    cancel.join().unwrap();
    assert!(error.to_string().contains("cancel"), "{error}");

    // A job that fails: the server answers 404, the read says so.
    let refusing = Server::start(|_| Reply::new(404));
    let (job, file) = on_demand_job(&manager, dir.path(), &refusing.url("/gone"));
    job.set_no_progress_timeout(Duration::ZERO).unwrap();
    job.resume().unwrap();
    let mut reader = file.open_reader().unwrap();
    let error = reader.read(&mut buf).unwrap_err();
    assert_eq!(job.wait(LONG), BgJobState::Error);
    assert!(error.to_string().contains("404"), "{error}");
}

#[test]
fn an_on_demand_file_works_from_a_local_path() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(2 * MIB + 3);
    let source = dir.path().join("source.bin");
    std::fs::write(&source, &data).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, &out, source.to_str().unwrap());
    job.resume().unwrap();
    let mut reader = file.open_reader().unwrap();
    reader.seek(SeekFrom::Start(MIB + 1)).unwrap();
    let mut buf = vec![0u8; 4096];
    reader.read_exact(&mut buf).unwrap();
    assert_eq!(buf, data[(MIB + 1) as usize..][..4096]);
    let filled = file.get_filled_file_ranges();
    assert!(filled.iter().all(|range| range.initial_offset >= MIB), "{filled:?}");
}

#[test]
fn a_reopened_on_demand_job_keeps_what_it_asked_for_and_what_it_has() {
    let data = content(3 * MIB);
    let server = served(&data);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let id = {
        let manager = Manager::builder().store(&store).try_build().unwrap();
        let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
        file.request_file_ranges(&[r(2 * MIB, 100)]).unwrap();
        job.resume().unwrap();
        job.wait_until(LONG, |s| s != BgJobState::Queued && s != BgJobState::Suspended);
        assert_eq!(suspended_or_transferred(&job), BgJobState::Suspended);
        // Asked for while suspended and never resumed: kept for the next process.
        job.suspend().unwrap();
        file.request_file_ranges(&[r(0, 10)]).unwrap();
        job.get_id()
    };
    let manager = Manager::builder().store(&store).try_build().unwrap();
    let job = manager.get_job(id).unwrap();
    assert_eq!(
        job.get_property(BgJobPropertyId::OnDemandMode).unwrap(),
        BgJobProperty::OnDemandMode(true)
    );
    let file = job.enum_files().remove(0);
    assert_eq!(file.get_filled_file_ranges(), [r(2 * MIB, 100)]);
    let before = server.requests().len();
    job.resume().unwrap();
    job.wait_until(LONG, |s| s != BgJobState::Queued && s != BgJobState::Suspended);
    assert_eq!(suspended_or_transferred(&job), BgJobState::Suspended);
    assert_eq!(file.get_filled_file_ranges(), [r(0, 10), r(2 * MIB, 100)]);
    let after: Vec<_> = asked(&server)[before..].to_vec();
    assert_eq!(after, ["bytes=0-9"], "only what was missing");
    let temp = std::fs::read(file.get_temporary_name().unwrap()).unwrap();
    assert_eq!(&temp[2 * MIB as usize..][..100], &data[2 * MIB as usize..][..100]);
}

#[test]
fn a_read_past_the_end_before_the_size_is_known_is_the_end_of_the_file() {
    let data = content(100 * KIB);
    let server = served(&data);
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    job.resume().unwrap();
    let mut reader = file.open_reader().unwrap();
    reader.seek(SeekFrom::Start(5 * MIB)).unwrap();
    let mut buf = [0u8; 10];
    assert_eq!(reader.read(&mut buf).unwrap(), 0, "the end of the file");
    assert_eq!(job.get_progress().bytes_total, 100 * KIB);
    assert_eq!(suspended_or_transferred(&job), BgJobState::Suspended, "not an error");
    // The local transport too.
    let source = dir.path().join("source.bin");
    std::fs::write(&source, &data).unwrap();
    let out = dir.path().join("local");
    std::fs::create_dir(&out).unwrap();
    let (job, file) = on_demand_job(&manager, &out, source.to_str().unwrap());
    job.resume().unwrap();
    let mut reader = file.open_reader().unwrap();
    reader.seek(SeekFrom::Start(5 * MIB)).unwrap();
    assert_eq!(reader.read(&mut buf).unwrap(), 0);
    assert_eq!(suspended_or_transferred(&job), BgJobState::Suspended);
}
