//! The engine: real transfers through `Manager::new()` and scripted transports. Each test is
//! named after the rule it checks (spec sections 3.2 to 3.6, DESIGN sections 1, 3 and 4).

use crate::engine_support;
use crate::support::CutShort;

// Used only by the store's test of every duration input.
#[cfg(feature = "store")]
use bgcopy::clock::{Clock, ManualClock};
#[cfg(feature = "store")]
use bgcopy::meter::RateMeter;
#[cfg(feature = "store")]
use bgcopy::transport::TransferError;
use bgcopy::transport::{LocalTransport, TransferRequest, TransferSink, Transport};
use bgcopy::*;
use engine_support::*;
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const MIB: usize = 1 << 20;

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// Records every callback it gets.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
    complete_on_transferred: bool,
    completions: Mutex<Vec<Result<BgSuccess>>>,
}

impl BackgroundCopyCallback for Recorder {
    fn job_transferred(&self, job: &Job) {
        self.events.lock().push("transferred".into());
        if self.complete_on_transferred {
            self.completions.lock().push(job.complete());
        }
    }

    fn job_error(&self, _job: &Job, error: &JobError) {
        self.events.lock().push(format!("error {:?}", error.get_error()));
    }

    fn job_modification(&self, _job: &Job) {
        self.events.lock().push("modification".into());
    }

    fn file_transferred(&self, _job: &Job, file: &JobFile) {
        self.events.lock().push(format!("file {}", file.index()));
    }
}

#[test]
fn a_new_job_is_suspended_and_the_engine_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    write_pattern(&source, 1000, 1);
    let manager = Manager::new();
    let job = manager.create_job("idle", BgJobType::Download).unwrap();
    job.add_file(path_str(&source), &dir.path().join("copy.bin")).unwrap();
    manager.wait_engine_pass();
    assert_eq!(job.get_state(), BgJobState::Suspended);
    assert_eq!(job.get_progress().bytes_transferred, 0);
    assert_eq!(dir_names(dir.path()), ["source.bin"]);
}

#[test]
fn resume_without_files_is_bg_e_empty_and_the_job_stays_suspended() {
    let manager = Manager::new();
    let job = manager.create_job("empty", BgJobType::Download).unwrap();
    assert_eq!(job.resume().unwrap_err().hresult(), hresult::BG_E_EMPTY);
    manager.wait_engine_pass();
    assert_eq!(job.get_state(), BgJobState::Suspended);
}

#[test]
fn a_transfer_goes_queued_connecting_transferring_transferred() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(Gate::default());
    let body: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
    let transport = Arc::new(GatedTransport { gate: Arc::clone(&gate), body: body.clone() });
    // A clock that stands still: no time slice ends, so the second job waits deterministically.
    let (manager, _clock) = manual_manager(vec![transport]);
    let gated = manager.create_job("gated", BgJobType::Download).unwrap();
    gated.add_file("gated://server/a", &dir.path().join("a.bin")).unwrap();
    let local = manager.create_job("local", BgJobType::Download).unwrap();
    let source = dir.path().join("source.bin");
    let local_body = write_pattern(&source, 5000, 9);
    local.add_file(path_str(&source), &dir.path().join("b.bin")).unwrap();

    gated.resume().unwrap();
    gate.wait_reached(1);
    assert_eq!(gated.get_state(), BgJobState::Connecting);
    assert_eq!(gated.get_progress().bytes_transferred, 0);

    // The only background worker is busy: the second job waits in Queued.
    local.resume().unwrap();
    manager.wait_engine_pass();
    assert_eq!(local.get_state(), BgJobState::Queued);

    gate.open(1);
    gate.wait_reached(2);
    assert_eq!(gated.get_state(), BgJobState::Transferring);
    let progress = gated.get_progress();
    assert_eq!((progress.bytes_transferred, progress.bytes_total), (5000, 10_000));

    gate.open(2);
    wait_state(&gated, BgJobState::Transferred);
    assert!(gated.get_times().transfer_completion_time.is_some());
    wait_state(&local, BgJobState::Transferred);
    assert_eq!(gated.complete().unwrap(), BgSuccess::Ok);
    assert_eq!(local.complete().unwrap(), BgSuccess::Ok);
    assert_eq!(std::fs::read(dir.path().join("a.bin")).unwrap(), body);
    assert_eq!(std::fs::read(dir.path().join("b.bin")).unwrap(), local_body);
}

#[test]
fn files_stay_invisible_until_complete_and_arrive_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let dst = dir.path().join("dst");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&dst).unwrap();
    // Empty, small, and larger than one kernel-copy chunk.
    let sizes = [0, 1, 4096 + 7, 9 * MIB + 123];
    let manager = Manager::new();
    let job = manager.create_job("identical", BgJobType::Download).unwrap();
    let mut expected = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let source = src.join(format!("f{i}.bin"));
        expected.push(write_pattern(&source, *size, i as u8));
        job.add_file(path_str(&source), &dst.join(format!("f{i}.bin"))).unwrap();
    }
    job.resume().unwrap();
    wait_state(&job, BgJobState::Transferred);
    let progress = job.get_progress();
    let total: usize = sizes.iter().sum();
    assert_eq!(progress.bytes_total, total as u64);
    assert_eq!(progress.bytes_transferred, total as u64);
    assert_eq!(progress.files_transferred, sizes.len() as u32);
    for file in job.enum_files() {
        assert!(!file.get_local_name().exists(), "visible before complete()");
        assert!(file.get_temporary_name().is_some_and(|t| t.exists()));
        assert!(!file.get_progress().completed);
    }

    assert_eq!(job.complete().unwrap(), BgSuccess::Ok);
    for (i, data) in expected.iter().enumerate() {
        assert_eq!(&std::fs::read(dst.join(format!("f{i}.bin"))).unwrap(), data, "file {i}");
    }
    assert!(job.enum_files().iter().all(|f| f.get_progress().completed));
    // Only the destinations are left: no temporary files.
    assert_eq!(dir_names(&dst), ["f0.bin", "f1.bin", "f2.bin", "f3.bin"]);
}

#[cfg(unix)]
#[test]
fn file_urls_are_percent_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("my source.bin");
    let data = write_pattern(&source, 3000, 3);
    let url = format!("file://{}", path_str(&source).replace(' ', "%20"));
    let manager = Manager::new();
    let job = manager.create_job("url", BgJobType::Download).unwrap();
    job.add_file(&url, &dir.path().join("copy.bin")).unwrap();
    job.resume().unwrap();
    wait_state(&job, BgJobState::Transferred);
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("copy.bin")).unwrap(), data);
}

#[test]
fn files_of_a_job_are_transferred_in_the_order_added() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(RecordingTransport::default());
    let manager = Manager::builder().transport(recorder.clone()).build();
    let job = manager.create_job("order", BgJobType::Download).unwrap();
    let names = ["rec://host/c", "rec://host/a", "rec://host/b"];
    for (i, name) in names.iter().enumerate() {
        job.add_file(name, &dir.path().join(format!("{i}.txt"))).unwrap();
    }
    job.resume().unwrap();
    wait_state(&job, BgJobState::Transferred);
    assert_eq!(*recorder.calls.lock(), names);
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("0.txt")).unwrap(), b"rec://host/c");
}

#[test]
fn cancel_deletes_temporary_files_and_never_touches_an_existing_destination() {
    let dir = tempfile::tempdir().unwrap();
    let destination = dir.path().join("keep.txt");
    std::fs::write(&destination, b"old content").unwrap();
    let slow = Arc::new(SlowTransport { size: 1 << 30, pause: Duration::from_millis(1) });
    let manager = Manager::builder().transport(slow).build();
    let job = manager.create_job("cancelled mid-file", BgJobType::Download).unwrap();
    job.add_file("slow://host/big", &destination).unwrap();
    job.resume().unwrap();
    wait_until("bytes to arrive", || job.get_progress().bytes_transferred > 0);
    let temp = job.enum_files()[0].get_temporary_name().expect("a temporary file");
    assert!(temp.exists());

    assert_eq!(job.cancel().unwrap(), BgSuccess::Ok);
    assert_eq!(job.get_state(), BgJobState::Cancelled);
    manager.wait_engine_idle();
    assert!(job.get_progress().bytes_transferred < 1 << 30);
    assert!(!temp.exists());
    assert_eq!(std::fs::read(&destination).unwrap(), b"old content");
    assert_eq!(dir_names(dir.path()), ["keep.txt"]);
    assert_eq!(manager.get_job(job.get_id()).unwrap_err().hresult(), hresult::BG_E_NOT_FOUND);
}

#[test]
fn cancel_after_transfer_deletes_finished_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    write_pattern(&source, 2 * MIB, 5);
    let manager = Manager::new();
    let job = manager.create_job("cancelled", BgJobType::Download).unwrap();
    job.add_file(path_str(&source), &dir.path().join("copy.bin")).unwrap();
    job.resume().unwrap();
    wait_state(&job, BgJobState::Transferred);
    job.cancel().unwrap();
    assert_eq!(dir_names(dir.path()), ["source.bin"]);
}

#[test]
fn suspend_stops_a_transfer_mid_file_and_resume_continues_from_the_bytes_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let size = 1u64 << 30;
    let slow = Arc::new(SlowTransport { size, pause: Duration::from_millis(1) });
    let manager = Manager::builder().transport(slow).build();
    let job = manager.create_job("suspended mid-file", BgJobType::Download).unwrap();
    job.add_file("slow://host/big", &dir.path().join("big.bin")).unwrap();
    job.resume().unwrap();
    wait_until("bytes to arrive", || job.get_progress().bytes_transferred > 0);

    job.suspend().unwrap();
    assert_eq!(job.get_state(), BgJobState::Suspended);
    manager.wait_engine_idle();
    let stopped_at = job.get_progress().bytes_transferred;
    assert!(stopped_at > 0 && stopped_at < size);
    manager.wait_engine_pass();
    assert_eq!(job.get_progress().bytes_transferred, stopped_at, "bytes kept arriving");
    assert_eq!(job.get_state(), BgJobState::Suspended);
    let temp = job.enum_files()[0].get_temporary_name().expect("the partial file stays");
    assert_eq!(std::fs::metadata(&temp).unwrap().len(), stopped_at);

    job.resume().unwrap();
    let mut lowest = u64::MAX;
    wait_until("more bytes", || {
        let now = job.get_progress().bytes_transferred;
        lowest = lowest.min(now);
        now > stopped_at
    });
    assert!(lowest >= stopped_at, "the file restarted instead of continuing");
    job.cancel().unwrap();
}

#[test]
fn suspend_stops_a_local_copy_mid_file_and_the_resumed_copy_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("large.bin");
    let size = 64 * MIB as u64;
    {
        // Sparse, with a few marks so that a misplaced chunk would show.
        use std::io::{Seek, SeekFrom, Write};
        let mut file = std::fs::File::create(&source).unwrap();
        file.set_len(size).unwrap();
        for mark in 0..16u64 {
            file.seek(SeekFrom::Start(mark * (size / 16) + 12_345)).unwrap();
            file.write_all(format!("mark {mark}").as_bytes()).unwrap();
        }
    }
    let manager = Manager::new();
    let job = manager.create_job("large local", BgJobType::Download).unwrap();
    let copy = dir.path().join("copy.bin");
    job.add_file(path_str(&source), &copy).unwrap();
    job.resume().unwrap();
    wait_until("bytes to arrive", || {
        std::thread::yield_now();
        job.get_progress().bytes_transferred > 0
    });
    job.suspend().unwrap();
    manager.wait_engine_idle();
    let stopped_at = job.get_progress().bytes_transferred;
    manager.wait_engine_pass();
    assert_eq!(job.get_state(), BgJobState::Suspended);
    assert_eq!(job.get_progress().bytes_transferred, stopped_at);

    job.resume().unwrap();
    wait_state(&job, BgJobState::Transferred);
    job.complete().unwrap();
    assert!(std::fs::read(&copy).unwrap() == std::fs::read(&source).unwrap());
}

#[test]
fn a_local_source_that_changed_between_attempts_is_copied_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    write_pattern(&source, 64 * 1024, 1);
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("changing source", BgJobType::Download).unwrap();
    job.add_file(path_str(&source), &dir.path().join("copy.bin")).unwrap();
    job.resume().unwrap();
    let files = job.enum_files();
    let request = TransferRequest::new(&job, &files[0]);

    let driver = job.claim().unwrap();
    driver.connected().unwrap();
    let mut transfer = driver.open_file(0).unwrap();
    let error = LocalTransport
        .transfer(&request, &mut CutShort { inner: &mut transfer, limit: 1000 })
        .unwrap_err();
    drop(transfer);
    assert_eq!(driver.fail(error, Some(0)).unwrap(), BgJobState::TransientError);
    assert_eq!(job.get_progress().bytes_transferred, 1000);

    // Same size, new content and modification time.
    let new_content = write_pattern(&source, 64 * 1024, 2);
    let later = std::time::SystemTime::now() + Duration::from_secs(10);
    std::fs::File::options().write(true).open(&source).unwrap().set_modified(later).unwrap();

    job.retry_now().unwrap();
    let driver = job.claim().unwrap();
    driver.connected().unwrap();
    let mut transfer = driver.open_file(0).unwrap();
    assert_eq!(transfer.offset(), 1000);
    LocalTransport.transfer(&request, &mut transfer).unwrap();
    transfer.finish().unwrap();
    driver.finish().unwrap();
    job.complete().unwrap();
    assert!(std::fs::read(dir.path().join("copy.bin")).unwrap() == new_content);
}

#[test]
fn a_missing_source_is_a_fatal_remote_file_error_that_resume_recovers_from() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("later.bin");
    let recorder = Arc::new(Recorder::default());
    let manager = Manager::new();
    let job = manager.create_job("missing", BgJobType::Download).unwrap();
    job.set_notify_interface(Some(recorder.clone())).unwrap();
    job.add_file(path_str(&source), &dir.path().join("copy.bin")).unwrap();
    job.resume().unwrap();
    wait_state(&job, BgJobState::Error);

    let error = job.get_error().unwrap();
    assert_eq!(error.get_error(), (BgErrorContext::RemoteFile, hresult::ERROR_FILE_NOT_FOUND_HR));
    assert_eq!(error.get_protocol().unwrap(), "file");
    assert_eq!(error.get_file().unwrap().get_remote_name(), path_str(&source));
    assert_eq!(job.get_error_count(), 1);
    wait_until("job_error", || recorder.events.lock().iter().any(|e| e.starts_with("error")));

    // Still missing: another failure, counted.
    job.resume().unwrap();
    wait_until("a second failure", || job.get_error_count() == 2);
    wait_state(&job, BgJobState::Error);

    let data = write_pattern(&source, 70_000, 4);
    job.resume().unwrap();
    wait_state(&job, BgJobState::Transferred);
    assert_eq!(job.get_error().unwrap_err().hresult(), hresult::BG_E_ERROR_INFORMATION_UNAVAILABLE);
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("copy.bin")).unwrap(), data);
}

#[test]
fn a_destination_directory_that_is_gone_is_a_fatal_local_file_error() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    write_pattern(&source, 100, 2);
    let gone = dir.path().join("gone");
    std::fs::create_dir(&gone).unwrap();
    let manager = Manager::new();
    let job = manager.create_job("no directory", BgJobType::Download).unwrap();
    job.add_file(path_str(&source), &gone.join("copy.bin")).unwrap();
    std::fs::remove_dir(&gone).unwrap();
    job.resume().unwrap();
    wait_state(&job, BgJobState::Error);
    let (context, _) = job.get_error().unwrap().get_error();
    assert_eq!(context, BgErrorContext::LocalFile);
    assert_eq!(job.get_error_count(), 1);
}

#[test]
fn a_declared_scheme_no_transport_serves_is_a_fatal_general_transport_error_in_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().scheme("s3").build();
    let job = manager.create_job("no s3 transport", BgJobType::Download).unwrap();
    job.add_file("s3://bucket/file", &dir.path().join("x")).unwrap();
    job.resume().unwrap();
    assert_eq!(job.wait(PATIENCE), BgJobState::Error);
    let error = job.get_error().unwrap();
    assert_eq!(error.get_error(), (BgErrorContext::GeneralTransport, hresult::E_INVALIDARG));
    assert_eq!(error.get_protocol().unwrap(), "s3");
}

/// Waits until the job failed `count` times in all and sits in `TransientError`, then lets the
/// scheduler note the failure before the test moves the clock.
fn wait_transient_failures(manager: &Manager, job: &Job, count: u32) {
    wait_until(&format!("failure {count}"), || {
        job.get_error_count() == count && job.get_state() == BgJobState::TransientError
    });
    manager.wait_engine_pass();
}

#[test]
fn a_transient_failure_is_retried_no_sooner_than_the_minimum_retry_delay() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = Arc::new(FlakyTransport::default());
    let (manager, clock) = manual_manager(vec![flaky.clone()]);
    let job = manager.create_job("flaky", BgJobType::Download).unwrap();
    job.add_file("flaky://host/x", &dir.path().join("x")).unwrap();
    job.set_minimum_retry_delay(Duration::from_secs(60)).unwrap();
    job.resume().unwrap();
    wait_transient_failures(&manager, &job, 1);
    let error = job.get_error().unwrap();
    assert_eq!(error.get_error(), (BgErrorContext::RemoteFile, hresult::BG_E_CONNECTION_CLOSED));
    assert_eq!(error.get_protocol().unwrap(), "flaky");

    clock.advance(Duration::from_secs(59));
    manager.wait_engine_pass();
    assert_eq!(job.get_state(), BgJobState::TransientError);
    assert_eq!(flaky.attempts(), 1);

    clock.advance(Duration::from_secs(1));
    wait_transient_failures(&manager, &job, 2);
    assert_eq!(flaky.attempts(), 2);
}

#[test]
fn the_no_progress_timeout_moves_a_job_that_keeps_failing_to_error() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = Arc::new(FlakyTransport::default());
    let recorder = Arc::new(Recorder::default());
    let (manager, clock) = manual_manager(vec![flaky.clone()]);
    let job = manager.create_job("no progress", BgJobType::Download).unwrap();
    job.add_file("flaky://host/x", &dir.path().join("x")).unwrap();
    job.set_minimum_retry_delay(Duration::from_secs(60)).unwrap();
    job.set_no_progress_timeout(Duration::from_secs(300)).unwrap();
    job.set_notify_interface(Some(recorder.clone())).unwrap();
    job.resume().unwrap();
    // Failures at 0, 60, 120, 180 and 240 s; each one counts.
    for count in 1..=5 {
        wait_transient_failures(&manager, &job, count);
        clock.advance(Duration::from_secs(60));
    }
    // At 300 s the timeout has passed since the first failure without a byte: Error, no retry.
    wait_state(&job, BgJobState::Error);
    assert_eq!(flaky.attempts(), 5);
    assert_eq!(job.get_error_count(), 5);
    let error = job.get_error().unwrap();
    assert_eq!(error.get_error(), (BgErrorContext::RemoteFile, hresult::BG_E_CONNECTION_CLOSED));
    wait_until("job_error", || recorder.events.lock().iter().any(|e| e.starts_with("error")));
    assert_eq!(recorder.events.lock().iter().filter(|e| e.starts_with("error")).count(), 1);
}

#[test]
fn bytes_arriving_restart_the_no_progress_timer() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = Arc::new(FlakyTransport { bytes_per_attempt: 1000, ..Default::default() });
    let (manager, clock) = manual_manager(vec![flaky.clone()]);
    let job = manager.create_job("slow progress", BgJobType::Download).unwrap();
    job.add_file("flaky://host/x", &dir.path().join("x")).unwrap();
    job.set_minimum_retry_delay(Duration::from_secs(60)).unwrap();
    job.set_no_progress_timeout(Duration::from_secs(100)).unwrap();
    job.resume().unwrap();
    // 100 s without progress would end it at the third failure; every attempt moves bytes.
    for count in 1..=4 {
        wait_transient_failures(&manager, &job, count);
        clock.advance(Duration::from_secs(60));
    }
    wait_transient_failures(&manager, &job, 5);
    assert_eq!(job.get_progress().bytes_transferred, 5000);
    job.cancel().unwrap();
}

#[test]
fn resume_retries_a_transient_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = Arc::new(FlakyTransport::default());
    let (manager, _clock) = manual_manager(vec![flaky.clone()]);
    let job = manager.create_job("impatient", BgJobType::Download).unwrap();
    job.add_file("flaky://host/x", &dir.path().join("x")).unwrap();
    job.resume().unwrap();
    wait_transient_failures(&manager, &job, 1);
    job.resume().unwrap(); // the 600 s default delay does not apply
    wait_transient_failures(&manager, &job, 2);
    assert_eq!(flaky.attempts(), 2);
}

#[test]
fn a_callback_may_complete_the_job_from_job_transferred() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder { complete_on_transferred: true, ..Default::default() });
    let manager = Manager::new();
    let job = manager.create_job("self-completing", BgJobType::Download).unwrap();
    job.set_notify_flags(
        BgNotify::JOB_TRANSFERRED | BgNotify::JOB_ERROR | BgNotify::FILE_TRANSFERRED,
    )
    .unwrap();
    job.set_notify_interface(Some(recorder.clone())).unwrap();
    let mut expected = Vec::new();
    for i in 0..2 {
        let source = dir.path().join(format!("s{i}"));
        expected.push(write_pattern(&source, 10_000 * (i + 1), i as u8));
        job.add_file(path_str(&source), &dir.path().join(format!("d{i}"))).unwrap();
    }
    job.resume().unwrap();
    wait_state(&job, BgJobState::Acknowledged);
    wait_until("the completion", || !recorder.completions.lock().is_empty());
    assert!(matches!(recorder.completions.lock()[0], Ok(BgSuccess::Ok)));
    assert_eq!(*recorder.events.lock(), ["file 0", "file 1", "transferred"]);
    for (i, data) in expected.iter().enumerate() {
        assert_eq!(&std::fs::read(dir.path().join(format!("d{i}"))).unwrap(), data);
    }
}

#[test]
fn only_the_flagged_callbacks_fire_during_a_real_transfer() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    write_pattern(&source, 50_000, 3);
    let recorder = Arc::new(Recorder::default());
    let manager = Manager::new();
    let job = manager.create_job("modifications", BgJobType::Download).unwrap();
    job.add_file(path_str(&source), &dir.path().join("copy.bin")).unwrap();
    job.set_notify_interface(Some(recorder.clone())).unwrap();
    job.set_notify_flags(BgNotify::JOB_MODIFICATION).unwrap();
    recorder.events.lock().clear();
    job.resume().unwrap();
    wait_state(&job, BgJobState::Transferred);
    // Queued, Connecting, Transferring and the finished file at least; nothing else.
    wait_until("modifications", || recorder.events.lock().len() >= 4);
    assert!(recorder.events.lock().iter().all(|e| e == "modification"));
}

#[test]
fn foreground_jobs_run_alongside_a_background_job() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(Gate::default());
    let transport = Arc::new(GatedTransport { gate: Arc::clone(&gate), body: vec![1; 100] });
    let (manager, _clock) = manual_manager(vec![transport]);
    let background = manager.create_job("background", BgJobType::Download).unwrap();
    background.add_file("gated://host/x", &dir.path().join("x")).unwrap();
    background.resume().unwrap();
    gate.wait_reached(1);

    let source = dir.path().join("source.bin");
    write_pattern(&source, 1000, 7);
    let foreground = manager.create_job("foreground", BgJobType::Download).unwrap();
    foreground.set_priority(BgJobPriority::Foreground).unwrap();
    foreground.add_file(path_str(&source), &dir.path().join("y")).unwrap();
    foreground.resume().unwrap();
    wait_state(&foreground, BgJobState::Transferred);
    assert_eq!(background.get_state(), BgJobState::Connecting);
    gate.open(2);
    wait_state(&background, BgJobState::Transferred);
}

#[test]
fn a_higher_priority_job_takes_the_worker_from_a_lower_one() {
    let dir = tempfile::tempdir().unwrap();
    let slow = Arc::new(SlowTransport { size: 1 << 30, pause: Duration::from_millis(1) });
    let (manager, _clock) = manual_manager(vec![slow]);
    let low = manager.create_job("low", BgJobType::Download).unwrap();
    low.set_priority(BgJobPriority::Low).unwrap();
    low.add_file("slow://host/low", &dir.path().join("low")).unwrap();
    low.resume().unwrap();
    wait_until("low to start", || low.get_progress().bytes_transferred > 0);

    let high = manager.create_job("high", BgJobType::Download).unwrap();
    high.set_priority(BgJobPriority::High).unwrap();
    high.add_file("slow://host/high", &dir.path().join("high")).unwrap();
    high.resume().unwrap();
    wait_until("high to run and low to wait", || {
        high.get_progress().bytes_transferred > 0 && low.get_state() == BgJobState::Queued
    });
    let low_bytes = low.get_progress().bytes_transferred;
    manager.wait_engine_pass();
    assert_eq!(low.get_state(), BgJobState::Queued);
    assert_eq!(low.get_progress().bytes_transferred, low_bytes);
    high.cancel().unwrap();
    low.cancel().unwrap();
}

#[test]
fn jobs_of_equal_priority_take_turns() {
    let dir = tempfile::tempdir().unwrap();
    let slow = Arc::new(SlowTransport { size: 1 << 30, pause: Duration::from_millis(2) });
    let manager = Manager::builder().transport(slow).time_slice(Duration::from_millis(20)).build();
    let jobs: Vec<Job> = (0..2)
        .map(|i| {
            let job = manager.create_job(&format!("turn {i}"), BgJobType::Download).unwrap();
            job.add_file("slow://host/x", &dir.path().join(format!("x{i}"))).unwrap();
            job.resume().unwrap();
            job
        })
        .collect();
    // Alone, the first would need many seconds; taking turns, both move early.
    wait_until("both jobs to move", || {
        jobs.iter().all(|j| j.get_progress().bytes_transferred > 0)
            && jobs.iter().all(|j| j.get_state() != BgJobState::Transferred)
    });
    for job in &jobs {
        job.cancel().unwrap();
    }
}

#[test]
fn a_time_slice_never_preempts_a_file_that_cannot_resume() {
    let dir = tempfile::tempdir().unwrap();
    // 4 MiB in 64 pieces of 64 KiB, 1 ms apart: many 2 ms time slices long.
    let once = Arc::new(NonResumableTransport {
        size: 4 << 20,
        pause: Duration::from_millis(1),
        ..Default::default()
    });
    let manager =
        Manager::builder().transport(once.clone()).time_slice(Duration::from_millis(2)).build();
    let jobs: Vec<Job> = (0..2)
        .map(|i| {
            let job = manager.create_job(&format!("once {i}"), BgJobType::Download).unwrap();
            job.add_file("once://host/x", &dir.path().join(format!("x{i}"))).unwrap();
            job.resume().unwrap();
            job
        })
        .collect();
    for job in &jobs {
        wait_state(job, BgJobState::Transferred);
    }
    // Preempted mid-file, each job would have started over; taking turns at file ends, never.
    assert_eq!(*once.restarts.lock(), 0);
    for job in &jobs {
        assert_eq!(job.complete().unwrap(), BgSuccess::Ok);
    }
}

#[test]
fn the_engine_waits_for_a_callers_own_driver_to_let_go() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(Gate::default());
    let transport = Arc::new(GatedTransport { gate: Arc::clone(&gate), body: vec![2; 10] });
    let (manager, _clock) = manual_manager(vec![transport]);
    // Keep the only background worker busy so that the caller claims the job first.
    let busy = manager.create_job("busy", BgJobType::Download).unwrap();
    busy.add_file("gated://host/x", &dir.path().join("x")).unwrap();
    busy.resume().unwrap();
    gate.wait_reached(1);

    let source = dir.path().join("source.bin");
    let data = write_pattern(&source, 3000, 8);
    let job = manager.create_job("own driver", BgJobType::Download).unwrap();
    job.add_file(path_str(&source), &dir.path().join("copy.bin")).unwrap();
    job.resume().unwrap();
    let driver = job.claim().unwrap();
    // Suspend revokes the claim, but the driver still exists; the job is queued again.
    job.suspend().unwrap();
    job.resume().unwrap();
    gate.open(2);
    wait_state(&busy, BgJobState::Transferred);
    manager.wait_engine_pass();
    assert_eq!(job.get_state(), BgJobState::Queued);
    assert!(!driver.is_live());

    drop(driver);
    wait_state(&job, BgJobState::Transferred);
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("copy.bin")).unwrap(), data);
}

#[test]
fn a_transferred_job_with_a_new_file_transfers_only_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(RecordingTransport::default());
    let manager = Manager::builder().transport(recorder.clone()).build();
    let job = manager.create_job("grows", BgJobType::Download).unwrap();
    job.add_file("rec://host/one", &dir.path().join("1")).unwrap();
    job.resume().unwrap();
    wait_state(&job, BgJobState::Transferred);
    job.add_file("rec://host/two", &dir.path().join("2")).unwrap();
    job.resume().unwrap();
    wait_state(&job, BgJobState::Transferred);
    assert_eq!(*recorder.calls.lock(), ["rec://host/one", "rec://host/two"]);
    assert_eq!(job.complete().unwrap(), BgSuccess::Ok);
}

#[test]
fn many_jobs_of_mixed_priorities_all_arrive_with_consistent_progress_throughout() {
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().time_slice(Duration::from_millis(2)).build();
    let priorities =
        [BgJobPriority::Foreground, BgJobPriority::High, BgJobPriority::Normal, BgJobPriority::Low];
    let mut jobs = Vec::new();
    let mut expected: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for j in 0..30usize {
        let job = manager.create_job(&format!("job {j}"), BgJobType::Download).unwrap();
        job.set_priority(priorities[j % 4]).unwrap();
        for f in 0..(1 + j % 3) {
            let size = (j * 7919 + f * 104_729) % MIB + 1;
            let source = dir.path().join(format!("s{j}-{f}"));
            let destination = dir.path().join(format!("d{j}-{f}"));
            expected.push((destination.clone(), write_pattern(&source, size, (j + f) as u8)));
            job.add_file(path_str(&source), &destination).unwrap();
        }
        jobs.push(job);
    }
    let jobs = Arc::new(jobs);
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let jobs = Arc::clone(&jobs);
            std::thread::spawn(move || {
                let mut last = vec![BgJobProgress::default(); jobs.len()];
                let mut reads = 0u64;
                loop {
                    let mut all_done = true;
                    for (job, last) in jobs.iter().zip(last.iter_mut()) {
                        let done = job.get_state() == BgJobState::Transferred;
                        let now = job.get_progress();
                        assert!(now.is_consistent(), "{now:?}");
                        assert!(
                            now.bytes_transferred >= last.bytes_transferred,
                            "{last:?} {now:?}"
                        );
                        assert!(
                            now.files_transferred >= last.files_transferred,
                            "{last:?} {now:?}"
                        );
                        *last = now;
                        all_done &= done;
                        reads += 1;
                    }
                    if all_done {
                        return reads;
                    }
                    std::thread::yield_now();
                }
            })
        })
        .collect();
    for job in jobs.iter() {
        job.resume().unwrap();
    }
    for job in jobs.iter() {
        wait_state(job, BgJobState::Transferred);
    }
    for reader in readers {
        assert!(reader.join().expect("a reader found an impossible snapshot") > 0);
    }
    for job in jobs.iter() {
        let progress = job.get_progress();
        assert_eq!(progress.bytes_transferred, progress.bytes_total);
        assert_eq!(progress.files_transferred, progress.files_total);
        assert_eq!(job.complete().unwrap(), BgSuccess::Ok);
    }
    for (destination, data) in &expected {
        assert!(&std::fs::read(destination).unwrap() == data, "{destination:?}");
    }
}

#[test]
fn a_destination_that_is_a_directory_fails_the_job_before_any_byte_is_transferred() {
    let dir = tempfile::tempdir().unwrap();
    let recording = Arc::new(RecordingTransport::default());
    let manager = Manager::builder().transport(recording.clone()).build();
    let job = manager.create_job("into a directory", BgJobType::Download).unwrap();
    let destination = dir.path().join("already-a-directory");
    std::fs::create_dir(&destination).unwrap();
    job.add_file("rec://host/a", &destination).unwrap();
    job.resume().unwrap();
    assert_eq!(job.wait(PATIENCE), BgJobState::Error);
    let error = job.get_error().unwrap();
    assert_eq!(error.get_error(), (BgErrorContext::LocalFile, hresult::E_ACCESSDENIED));
    assert!(recording.calls.lock().is_empty(), "the transport was never asked");
    assert_eq!(job.get_progress().bytes_transferred, 0);
    assert_eq!(dir_names(dir.path()), ["already-a-directory"]);
}

#[test]
fn engine_settings_do_not_turn_off_engine_back_on_in_any_order() {
    let slow = Arc::new(SlowTransport { size: 1, pause: Duration::ZERO });
    let manager = Manager::builder()
        .without_engine()
        .workers(4)
        .transport(slow.clone())
        .time_slice(Duration::from_millis(5))
        .build();
    assert!(!manager.has_engine());
    let manager = Manager::builder().workers(4).transport(slow).without_engine().build();
    assert!(!manager.has_engine());
    assert!(Manager::builder().workers(1).build().has_engine());
}

/// The largest durations a caller can pass: each public `Duration` input takes them without a
/// panic or an overflow (DESIGN 6.1: `Duration::MAX` means never).
const HUGE: [Duration; 4] = [
    Duration::MAX,
    Duration::from_secs(u64::MAX),
    Duration::new(u64::MAX, 999_999_999),
    // Past the range of `Instant` and `SystemTime` on every platform, short of `u64::MAX`.
    Duration::from_secs(i64::MAX as u64 + 1),
];

#[cfg(feature = "store")]
#[test]
fn every_public_duration_input_takes_the_largest_values_and_every_thread_keeps_working() {
    for huge in HUGE {
        let clock = ManualClock::new();
        clock.advance(huge);
        clock.advance(huge);
        assert_eq!(clock.now(), Duration::MAX);
        let mut meter = RateMeter::with_window(huge);
        assert_eq!(meter.window(), huge);
        let now = std::time::Instant::now();
        meter.record(now, &BgJobProgress::default());
        let _ = meter.rate(now);
        #[cfg(feature = "http")]
        {
            let http = bgcopy::transport::HttpTransport::new()
                .with_timeouts(huge, huge)
                .with_resolve_timeout(huge);
            assert!(format!("{http:?}").contains("resolve_timeout"));
        }
        let _ = TransferError::transient(0x8007_0005, BgErrorContext::RemoteFile, "x")
            .with_retry_after(huge);

        let dir = tempfile::tempdir().unwrap();
        let slow = Arc::new(SlowTransport { size: 4 << 20, pause: Duration::from_millis(2) });
        let manager = Manager::builder()
            .transport(slow)
            .store(dir.path().join("store"))
            .time_slice(huge)
            .retention(Some(huge))
            .checkpoint_interval(huge)
            .build();
        let job = manager.create_job("huge", BgJobType::Download).unwrap();
        job.add_file("slow://host/x", &dir.path().join("x.bin")).unwrap();
        job.set_minimum_retry_delay(huge).unwrap();
        job.set_no_progress_timeout(huge).unwrap();
        job.set_http_timeouts(Some(huge), Some(huge)).unwrap();
        assert_eq!(job.get_http_timeouts(), (Some(huge), Some(huge)));
        let never = job.subscribe().with_progress_interval(Some(huge));
        let all = manager.subscribe().with_progress_interval(Some(huge));
        let paced = job.subscribe().with_progress_interval(Some(Duration::from_millis(5)));
        job.resume().unwrap();
        let mut during = 0;
        loop {
            match paced.recv_timeout(huge).expect("a notification") {
                Notification::Progress { progress, .. } if progress.files_transferred == 0 => {
                    during += 1;
                }
                Notification::StateChanged { state: BgJobState::Transferred, .. } => break,
                _ => {}
            }
        }
        assert!(during >= 1, "progress still arrives");
        assert_eq!(job.wait(huge), BgJobState::Transferred);
        assert_eq!(job.wait_until(huge, |s| s == BgJobState::Transferred), BgJobState::Transferred);
        job.complete().unwrap();
        assert!(manager.shutdown(huge));
        drop((never, all, paced, job, manager));
        // The store reopens with the same settings: the retention period cancels nothing.
        let reopened =
            Manager::builder().store(dir.path().join("store")).retention(Some(huge)).build();
        assert!(reopened.enum_all_jobs().is_empty());
    }
}

#[test]
fn a_retry_delay_and_a_no_progress_timeout_of_duration_max_mean_never() {
    for huge in HUGE {
        let dir = tempfile::tempdir().unwrap();
        let flaky = Arc::new(FlakyTransport::default());
        let (manager, clock) = manual_manager(vec![flaky.clone()]);
        let job = manager.create_job("never again", BgJobType::Download).unwrap();
        job.add_file("flaky://host/x", &dir.path().join("x")).unwrap();
        job.set_minimum_retry_delay(huge).unwrap();
        job.set_no_progress_timeout(huge).unwrap();
        job.resume().unwrap();
        wait_transient_failures(&manager, &job, 1);
        // A thousand years later: still waiting, never retried, the count does not climb.
        for _ in 0..3 {
            clock.advance(Duration::from_secs(1000 * 365 * 24 * 3600));
            manager.wait_engine_pass();
            manager.wait_engine_pass();
        }
        assert_eq!(job.get_state(), BgJobState::TransientError);
        assert_eq!((job.get_error_count(), flaky.attempts()), (1, 1));
        // The clock at its very end: `Duration::MAX` (whole seconds kept: `u64::MAX` s) is still
        // never; a finite timeout, however long, has passed there (`Error`, never a retry).
        clock.advance(Duration::MAX);
        manager.wait_engine_pass();
        manager.wait_engine_pass();
        let end =
            if huge.as_secs() == u64::MAX { BgJobState::TransientError } else { BgJobState::Error };
        wait_state(&job, end);
        assert_eq!((job.get_error_count(), flaky.attempts()), (1, 1));
        if end == BgJobState::Error {
            continue;
        }
        // `resume` still retries at once.
        job.resume().unwrap();
        wait_transient_failures(&manager, &job, 2);
        assert_eq!(flaky.attempts(), 2);
        job.cancel().unwrap();
    }
}

/// R5: an engine whose clock reached its end (`ManualClock::advance(Duration::MAX)`) still
/// schedules: a claim refused because the caller's own driver holds the job is tried again.
#[test]
fn an_engine_clock_at_duration_max_still_schedules_a_job_its_caller_let_go() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(Gate::default());
    let transport = Arc::new(GatedTransport { gate: Arc::clone(&gate), body: vec![2; 10] });
    let (manager, clock) = manual_manager(vec![transport]);
    clock.advance(Duration::MAX);
    let busy = manager.create_job("busy", BgJobType::Download).unwrap();
    busy.add_file("gated://host/x", &dir.path().join("x")).unwrap();
    busy.resume().unwrap();
    gate.wait_reached(1);
    let source = dir.path().join("source.bin");
    let data = write_pattern(&source, 3000, 8);
    let job = manager.create_job("own driver", BgJobType::Download).unwrap();
    job.add_file(path_str(&source), &dir.path().join("copy.bin")).unwrap();
    job.resume().unwrap();
    let driver = job.claim().unwrap();
    job.suspend().unwrap();
    job.resume().unwrap();
    gate.open(2);
    wait_state(&busy, BgJobState::Transferred);
    for _ in 0..3 {
        manager.wait_engine_pass();
    }
    drop(driver);
    wait_state(&job, BgJobState::Transferred);
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("copy.bin")).unwrap(), data);
}
