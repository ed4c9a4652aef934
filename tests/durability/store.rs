//! The durable store (DESIGN 5.2), in one process: what a manager opened on a store keeps, what
//! comes back on the next open and how, the one-opener rule, unreadable stores, retention,
//! temporary files checked against their records, orphans, the driver API and custom transports
//! on a store. Crashes are in `tests/durability/crash.rs`, which kills real processes. Each test is named
//! after the rule it checks.
#![cfg(feature = "store")]

use crate::engine_support;
use crate::support;

use bgcopy::clock::ManualClock;
use bgcopy::transport::TransferSink;
use bgcopy::*;
use engine_support::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A store directory inside a temporary directory, and a place for downloads beside it.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        Place { dir: tempfile::tempdir().unwrap() }
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn file(&self, name: &str) -> PathBuf {
        let downloads = self.dir.path().join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        downloads.join(name)
    }

    /// A driver-only manager on the store (jobs move only when the test drives them).
    fn driven(&self) -> Manager {
        Manager::builder().without_engine().store(self.store()).try_build().unwrap()
    }
}

/// Writes `data` as the first bytes of file `index` of a claimed job, without finishing it.
fn write_part(driver: &JobDriver, index: usize, size: u64, data: &[u8]) {
    let mut transfer = driver.open_file(index).unwrap();
    transfer.set_size(Some(size)).unwrap();
    transfer.set_validator(Some("v1".to_owned()));
    transfer.write(data).unwrap();
}

#[test]
fn every_property_change_is_kept_and_comes_back_on_the_next_open() {
    let place = Place::new();
    let id;
    let times;
    {
        let manager = Manager::builder()
            .without_engine()
            .owner("alice")
            .store(place.store())
            .try_build()
            .unwrap();
        let job = manager.create_job("kept job", BgJobType::Download).unwrap();
        job.add_file_set(&[
            BgFileInfo::new("https://example.com/a", place.file("a")),
            BgFileInfo::new("https://example.com/b", place.file("b")),
        ])
        .unwrap();
        job.set_description("a description").unwrap();
        job.set_priority(BgJobPriority::High).unwrap();
        job.set_notify_flags(BgNotify::JOB_MODIFICATION | BgNotify::JOB_ERROR).unwrap();
        job.set_minimum_retry_delay(Duration::from_secs(77)).unwrap();
        job.set_no_progress_timeout(Duration::from_secs(9999)).unwrap();
        job.set_proxy_settings(BgJobProxyUsage::Override, Some("proxy:8080"), Some("<local>"))
            .unwrap();
        job.set_custom_headers(&[("X-A", "1")]).unwrap();
        job.set_http_timeouts(Some(Duration::from_secs(3)), None).unwrap();
        job.enum_files()[1].set_expected_sha256(Some([9; 32])).unwrap();
        job.resume().unwrap();
        job.suspend().unwrap();
        id = job.get_id();
        times = job.get_times();
    }
    let manager = Manager::open(place.store()).unwrap();
    let job = manager.as_owner("alice").get_job(id).unwrap();
    assert_eq!(job.get_owner(), "alice");
    assert_eq!(job.get_display_name(), "kept job");
    assert_eq!(job.get_description(), "a description");
    assert_eq!(job.get_priority(), BgJobPriority::High);
    assert_eq!(job.get_notify_flags(), BgNotify::JOB_MODIFICATION | BgNotify::JOB_ERROR);
    assert_eq!(job.get_minimum_retry_delay(), Duration::from_secs(77));
    assert_eq!(job.get_no_progress_timeout(), Duration::from_secs(9999));
    let proxy = job.get_proxy_settings();
    assert_eq!(
        (proxy.usage, proxy.proxy_list.as_deref()),
        (BgJobProxyUsage::Override, Some("proxy:8080"))
    );
    assert_eq!(job.get_custom_headers(), [("X-A".to_owned(), "1".to_owned())]);
    assert_eq!(job.get_http_timeouts(), (Some(Duration::from_secs(3)), None));
    assert_eq!(job.get_state(), BgJobState::Suspended);
    assert_eq!(job.get_times(), times, "times come back exactly");
    let files = job.enum_files();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].get_remote_name(), "https://example.com/a");
    assert_eq!(files[1].get_local_name(), place.file("b"));
    assert_eq!(files[1].get_expected_sha256(), Some([9; 32]));
    assert_eq!(job.get_progress().files_total, 2);
}

#[test]
fn connecting_and_transferring_come_back_queued_and_engine_states_come_back_as_they_were() {
    let place = Place::new();
    let (transferring, transferred, failed, retrying);
    {
        let manager = place.driven();
        let job = |name: &str, file: &str| {
            let job = manager.create_job(name, BgJobType::Download).unwrap();
            job.add_file(&format!("https://example.com/{file}"), &place.file(file)).unwrap();
            job.resume().unwrap();
            job
        };
        transferring = job("transferring", "t");
        let held = support::claim_connected(&transferring);
        write_part(&held, 0, 10, b"part");
        transferred = job("transferred", "d");
        let driver = transferred.claim().unwrap();
        driver.connected().unwrap();
        support::transfer_file(&driver, 0, b"all of it");
        driver.finish().unwrap();
        failed = job("failed", "e");
        failed
            .claim()
            .unwrap()
            .fail(support::fatal(hresult::BG_E_HTTP_ERROR_404), Some(0))
            .unwrap();
        retrying = job("retrying", "r");
        retrying
            .claim()
            .unwrap()
            .fail(support::transient(hresult::BG_E_CONNECTION_CLOSED), Some(0))
            .unwrap();
        // A checkpoint while the first job is Transferring records it so.
        assert!(manager.shutdown(PATIENCE));
        drop(held);
    }
    let ids = [&transferring, &transferred, &failed, &retrying]
        .map(|j| (j.get_id(), j.get_times(), j.get_error_count()));
    drop((transferring, transferred, failed, retrying));
    let manager = Manager::builder().without_engine().store(place.store()).try_build().unwrap();
    let back: Vec<Job> = ids.iter().map(|(id, _, _)| manager.get_job(*id).unwrap()).collect();
    assert_eq!(back[0].get_state(), BgJobState::Queued);
    assert_eq!(back[1].get_state(), BgJobState::Transferred);
    assert_eq!(back[2].get_state(), BgJobState::Error);
    assert_eq!(back[3].get_state(), BgJobState::TransientError);
    for (job, (_, times, count)) in back.iter().zip(&ids) {
        assert_eq!(&job.get_times(), times);
        assert_eq!(&job.get_error_count(), count);
    }
    let error = back[2].get_error().unwrap();
    assert_eq!(error.get_error(), (BgErrorContext::RemoteFile, hresult::BG_E_HTTP_ERROR_404));
    assert_eq!(error.get_file().unwrap().get_local_name(), place.file("e"));
    assert_eq!(back[3].get_error().unwrap().get_error().1, hresult::BG_E_CONNECTION_CLOSED);
    // The transferred file is still there to complete.
    assert_eq!(back[1].complete().unwrap(), BgSuccess::Ok);
    assert_eq!(std::fs::read(place.file("d")).unwrap(), b"all of it");
}

#[test]
fn a_file_resumes_from_the_checkpointed_bytes_of_its_temporary_file() {
    let place = Place::new();
    let (id, temp);
    {
        let manager = place.driven();
        let job = manager.create_job("half", BgJobType::Download).unwrap();
        job.add_file("https://example.com/h", &place.file("h")).unwrap();
        job.resume().unwrap();
        let driver = support::claim_connected(&job);
        write_part(&driver, 0, 10, b"hello");
        id = job.get_id();
        temp = job.enum_files()[0].get_temporary_name().unwrap();
        drop(driver);
        assert!(manager.shutdown(PATIENCE)); // the final checkpoint records the 5 bytes
    }
    // Bytes written after the checkpoint are not recorded: the temporary file is cut to 5.
    append(&temp, b"junk");
    let manager = place.driven();
    let job = manager.get_job(id).unwrap();
    let progress = job.enum_files()[0].get_progress();
    assert_eq!((progress.bytes_transferred, progress.bytes_total), (5, 10));
    assert_eq!(std::fs::metadata(&temp).unwrap().len(), 5);
    job.resume().unwrap();
    let driver = support::claim_connected(&job);
    let mut transfer = driver.open_file(0).unwrap();
    assert_eq!(transfer.offset(), 5);
    assert_eq!(transfer.validator(), Some("v1"));
    transfer.write(b"world").unwrap();
    transfer.finish().unwrap();
    driver.finish().unwrap();
    job.complete().unwrap();
    assert_eq!(std::fs::read(place.file("h")).unwrap(), b"helloworld");
}

/// R5: a checkpoint interval of `Duration::MAX` means no periodic checkpoint (it once killed the
/// checkpointer thread), and the final one on shutdown still records the bytes.
#[test]
fn a_checkpoint_interval_of_duration_max_still_checkpoints_on_shutdown() {
    let place = Place::new();
    let (id, temp);
    {
        let manager = Manager::builder()
            .without_engine()
            .store(place.store())
            .checkpoint_interval(Duration::MAX)
            .try_build()
            .unwrap();
        let job = manager.create_job("never periodic", BgJobType::Download).unwrap();
        job.add_file("https://example.com/n", &place.file("n")).unwrap();
        job.resume().unwrap();
        let driver = support::claim_connected(&job);
        write_part(&driver, 0, 10, b"hello");
        id = job.get_id();
        temp = job.enum_files()[0].get_temporary_name().unwrap();
        drop(driver);
        assert!(manager.shutdown(Duration::MAX));
    }
    let manager = place.driven();
    let job = manager.get_job(id).unwrap();
    assert_eq!(job.enum_files()[0].get_progress().bytes_transferred, 5);
    assert_eq!(std::fs::read(&temp).unwrap(), b"hello");
}

fn append(path: &Path, data: &[u8]) {
    use std::io::Write;
    std::fs::OpenOptions::new().append(true).open(path).unwrap().write_all(data).unwrap();
}

#[test]
fn a_temporary_file_that_is_missing_or_short_restarts_its_file_from_zero() {
    let place = Place::new();
    let mut jobs = Vec::new();
    {
        let manager = place.driven();
        for name in ["missing", "short"] {
            let job = manager.create_job(name, BgJobType::Download).unwrap();
            job.add_file("https://example.com/x", &place.file(name)).unwrap();
            job.resume().unwrap();
            let driver = support::claim_connected(&job);
            write_part(&driver, 0, 10, b"12345");
            jobs.push(job);
        }
        assert!(manager.shutdown(PATIENCE)); // both record 5 bytes
    }
    let mut ids = Vec::new();
    for job in jobs {
        let temp = job.enum_files()[0].get_temporary_name().unwrap();
        if job.get_display_name() == "missing" {
            std::fs::remove_file(&temp).unwrap();
        } else {
            std::fs::OpenOptions::new().write(true).open(&temp).unwrap().set_len(2).unwrap();
        }
        ids.push((job.get_id(), temp));
    }
    let manager = place.driven();
    for (id, temp) in ids {
        let job = manager.get_job(id).unwrap();
        assert_eq!(job.get_progress().bytes_transferred, 0, "restarted from zero");
        assert_eq!(job.enum_files()[0].get_temporary_name(), None);
        assert!(!temp.exists());
    }
}

/// R7 after a restart of the process (the identity of a temporary file is not recorded): a hard
/// link at the recorded name has two links, so it is never resumed from, written to nor deleted;
/// the file restarts from zero in a new temporary file.
#[cfg(unix)]
#[test]
fn a_hard_link_at_the_recorded_temporary_name_is_left_alone_after_a_restart() {
    let place = Place::new();
    let (id, temp);
    {
        let manager = place.driven();
        let job = manager.create_job("linked", BgJobType::Download).unwrap();
        job.add_file("https://example.com/l", &place.file("l")).unwrap();
        job.resume().unwrap();
        let driver = support::claim_connected(&job);
        write_part(&driver, 0, 10, b"12345");
        id = job.get_id();
        temp = job.enum_files()[0].get_temporary_name().unwrap();
        drop(driver);
        assert!(manager.shutdown(PATIENCE)); // records 5 bytes
    }
    let theirs = place.file("theirs");
    std::fs::write(&theirs, b"their bytes").unwrap();
    std::fs::remove_file(&temp).unwrap();
    std::fs::hard_link(&theirs, &temp).unwrap();
    let manager = place.driven();
    let job = manager.get_job(id).unwrap();
    assert_eq!(job.get_progress().bytes_transferred, 0, "restarted from zero");
    assert_eq!(job.enum_files()[0].get_temporary_name(), None);
    job.resume().unwrap();
    let driver = support::claim_connected(&job);
    let mut transfer = driver.open_file(0).unwrap();
    assert_eq!(transfer.offset(), 0);
    assert_ne!(transfer.temp_path(), temp.as_path());
    transfer.set_size(Some(10)).unwrap();
    transfer.write(b"0123456789").unwrap();
    transfer.finish().unwrap();
    driver.finish().unwrap();
    job.complete().unwrap();
    assert_eq!(std::fs::read(place.file("l")).unwrap(), b"0123456789");
    assert_eq!(std::fs::read(&theirs).unwrap(), b"their bytes", "never written");
    assert_eq!(std::fs::read(&temp).unwrap(), b"their bytes", "never deleted");
}

/// R7 after a restart: the first reopen (owner and link count checked) learns the identity of
/// the temporary file, so a file of another inode put at the name before the next attempt is
/// left alone and the file restarts from zero.
#[cfg(unix)]
#[test]
fn after_a_restart_the_first_reopen_learns_the_temporary_files_identity() {
    let place = Place::new();
    let (id, temp);
    {
        let manager = place.driven();
        let job = manager.create_job("learnt", BgJobType::Download).unwrap();
        job.add_file("https://example.com/i", &place.file("i")).unwrap();
        job.resume().unwrap();
        let driver = support::claim_connected(&job);
        write_part(&driver, 0, 10, b"12345");
        id = job.get_id();
        temp = job.enum_files()[0].get_temporary_name().unwrap();
        drop(driver);
        assert!(manager.shutdown(PATIENCE));
    }
    let manager = place.driven();
    let job = manager.get_job(id).unwrap();
    job.resume().unwrap();
    let driver = support::claim_connected(&job);
    let transfer = driver.open_file(0).unwrap();
    assert_eq!(transfer.offset(), 5, "resumed: it is ours");
    drop(transfer);
    // Another inode with the same bytes, made before the old one goes.
    let new = place.file("new");
    std::fs::write(&new, b"12345").unwrap();
    std::fs::rename(&new, &temp).unwrap();
    let mut transfer = driver.open_file(0).unwrap();
    assert_eq!(transfer.offset(), 0, "not the file reopened before");
    assert_ne!(transfer.temp_path(), temp.as_path());
    transfer.write(b"0123456789").unwrap();
    transfer.finish().unwrap();
    driver.finish().unwrap();
    job.complete().unwrap();
    assert_eq!(std::fs::read(place.file("i")).unwrap(), b"0123456789");
    assert_eq!(std::fs::read(&temp).unwrap(), b"12345", "left alone");
}

#[test]
fn orphaned_temporary_files_are_removed_and_nothing_else_is_touched() {
    let place = Place::new();
    let (id, keep_temp, orphan);
    {
        let manager = place.driven();
        let job = manager.create_job("with orphans", BgJobType::Download).unwrap();
        job.add_file("https://example.com/o", &place.file("o.bin")).unwrap();
        job.resume().unwrap();
        let driver = support::claim_connected(&job);
        write_part(&driver, 0, 10, b"abc");
        drop(driver);
        manager.shutdown(PATIENCE);
        id = job.get_id();
        keep_temp = job.enum_files()[0].get_temporary_name().unwrap();
        // A second attempt's name of the same file (as if a crash came between creating it and
        // recording it).
        let name = keep_temp
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".bgcopy.tmp", "-1.bgcopy.tmp");
        orphan = keep_temp.with_file_name(name);
        std::fs::write(&orphan, b"orphan").unwrap();
    }
    let strangers = [
        place.file("o.bin.bgcopy.tmp"),
        place.file(".o.bin.00000000-0.bgcopy.tmp"), // another job's
        place.file("unrelated.txt"),
    ];
    for stranger in &strangers {
        std::fs::write(stranger, b"mine").unwrap();
    }
    let manager = place.driven();
    assert_eq!(manager.get_job(id).unwrap().get_progress().bytes_transferred, 3);
    assert!(!orphan.exists(), "the orphan is removed");
    assert!(keep_temp.exists(), "the recorded temporary file stays");
    for stranger in &strangers {
        assert_eq!(std::fs::read(stranger).unwrap(), b"mine", "{stranger:?} untouched");
    }
}

#[test]
fn one_process_at_a_time_and_the_store_is_released_with_the_last_handle() {
    let place = Place::new();
    let manager = Manager::open(place.store()).unwrap();
    let job = manager.create_job("holds the store", BgJobType::Download).unwrap();
    let error = Manager::open(place.store()).unwrap_err();
    assert_eq!(error.hresult(), 0x8007_0020);
    assert!(error.to_string().contains(&std::process::id().to_string()), "{error}");
    drop(manager);
    assert_eq!(
        Manager::open(place.store()).unwrap_err().hresult(),
        0x8007_0020,
        "the job handle holds it"
    );
    drop(job);
    let again = Manager::open(place.store()).unwrap();
    assert_eq!(again.enum_all_jobs().len(), 1);
}

#[test]
fn a_failed_open_holds_nothing() {
    let place = Place::new();
    let first = Manager::open(place.store()).unwrap();
    assert!(Manager::open(place.store()).is_err());
    drop(first);
    Manager::open(place.store()).expect("the failed open held nothing");
}

#[test]
fn a_store_that_cannot_be_read_is_database_corrupt_and_left_as_it_was() {
    let place = Place::new();
    std::fs::create_dir_all(place.store()).unwrap();
    let db = place.store().join("bgcopy.redb");
    let garbage: Vec<u8> = (0..100_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();
    let error = Manager::open(place.store()).unwrap_err();
    assert_eq!(error.hresult(), hresult::BG_E_DATABASE_CORRUPT);
    assert!(std::fs::read(&db).unwrap() == garbage, "unchanged");
    // Opting in moves it aside and starts empty.
    let manager =
        Manager::builder().store(place.store()).reset_corrupt_store(true).try_build().unwrap();
    assert!(manager.enum_all_jobs().is_empty());
    let aside: Vec<String> = std::fs::read_dir(place.store())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("bgcopy.redb.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert!(std::fs::read(place.store().join(&aside[0])).unwrap() == garbage);
}

#[test]
#[should_panic(expected = "use try_build")]
fn build_never_ignores_a_store_it_cannot_open() {
    let place = Place::new();
    let _first = Manager::open(place.store()).unwrap();
    let _second = Manager::builder().store(place.store()).build();
}

#[test]
fn jobs_untouched_for_the_retention_period_are_cancelled_at_open() {
    let place = Place::new();
    let (old, temp, touched);
    {
        let manager = place.driven();
        let job = manager.create_job("forgotten", BgJobType::Download).unwrap();
        job.add_file("https://example.com/f", &place.file("f")).unwrap();
        job.resume().unwrap();
        let driver = support::claim_connected(&job);
        write_part(&driver, 0, 10, b"abc");
        drop(driver);
        manager.shutdown(PATIENCE);
        old = job.get_id();
        temp = job.enum_files()[0].get_temporary_name().unwrap();
        touched = job.get_times().modification_time;
    }
    // Untouched for longer than the retention below (1 ms) by the wall clock.
    support::wait_for_wall_clock_past(touched + Duration::from_millis(1));
    let manager = Manager::builder()
        .without_engine()
        .store(place.store())
        .retention(Some(Duration::from_millis(1)))
        .try_build()
        .unwrap();
    assert_eq!(manager.get_job(old).unwrap_err().hresult(), hresult::BG_E_NOT_FOUND);
    assert!(!temp.exists(), "its temporary file is deleted");
    drop(manager);
    assert!(place.driven().enum_all_jobs().is_empty(), "and its record");
}

#[test]
fn final_jobs_leave_the_store() {
    let place = Place::new();
    {
        let manager = place.driven();
        manager.create_job("cancelled", BgJobType::Download).unwrap().cancel().unwrap();
        let job = manager.create_job("completed", BgJobType::Download).unwrap();
        job.complete().unwrap();
    }
    assert!(place.driven().enum_all_jobs().is_empty());
}

#[test]
fn the_engine_finishes_a_restored_job_with_a_custom_transport() {
    let place = Place::new();
    let slow = || Arc::new(SlowTransport { size: 8 << 20, pause: Duration::from_millis(1) });
    let id;
    {
        let manager =
            Manager::builder().transport(slow()).store(place.store()).try_build().unwrap();
        let job = manager.create_job("custom", BgJobType::Download).unwrap();
        job.add_file("slow://host/x", &place.file("x")).unwrap();
        job.resume().unwrap();
        wait_until("some bytes", || job.get_progress().bytes_transferred > 1 << 20);
        assert!(manager.shutdown(PATIENCE));
        id = job.get_id();
    }
    let manager = Manager::builder().transport(slow()).store(place.store()).try_build().unwrap();
    let job = manager.get_job(id).unwrap();
    let resumed_at = job.get_progress().bytes_transferred;
    assert!(resumed_at > 0, "bytes from before the restart are kept");
    // It came back `Queued`, and the engine, which runs from `try_build` on, may have taken it
    // already: any state on the way to `Transferred`, none that waits for a caller.
    let state = job.get_state();
    assert!(
        matches!(state, BgJobState::Queued | BgJobState::Connecting | BgJobState::Transferring),
        "{state:?}"
    );
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred);
    job.complete().unwrap();
    assert!(std::fs::read(place.file("x")).unwrap() == vec![0x5A; 8 << 20]);
}

#[test]
fn a_transient_errors_retry_delay_survives_a_restart() {
    let place = Place::new();
    let id;
    {
        let manager =
            Manager::builder().without_engine().scheme("slow").store(place.store()).try_build();
        let manager = manager.unwrap();
        let job = manager.create_job("retrying", BgJobType::Download).unwrap();
        job.add_file("slow://host/x", &place.file("x")).unwrap();
        job.set_minimum_retry_delay(Duration::from_secs(60)).unwrap();
        job.resume().unwrap();
        job.claim()
            .unwrap()
            .fail(support::transient(hresult::BG_E_CONNECTION_CLOSED), None)
            .unwrap();
        id = job.get_id();
    }
    let clock = Arc::new(ManualClock::new());
    let slow = Arc::new(SlowTransport { size: 1 << 20, pause: Duration::ZERO });
    let manager =
        Manager::builder().clock(clock.clone()).transport(slow).store(place.store()).try_build();
    let manager = manager.unwrap();
    let job = manager.get_job(id).unwrap();
    assert_eq!(job.get_state(), BgJobState::TransientError);
    manager.wait_engine_pass();
    clock.advance(Duration::from_secs(50));
    manager.wait_engine_pass();
    assert_eq!(job.get_state(), BgJobState::TransientError, "not before the delay");
    clock.advance(Duration::from_secs(11));
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred, "retried once the delay passed");
}

/// R5: a retry delay and a no-progress timeout of `Duration::MAX` survive a restart as never: the
/// restored job waits in `TransientError`, neither retried nor failed, however far the clock
/// moves.
#[test]
fn a_retry_delay_of_duration_max_is_still_never_after_a_restart() {
    let place = Place::new();
    let id;
    {
        let manager =
            Manager::builder().without_engine().scheme("slow").store(place.store()).try_build();
        let manager = manager.unwrap();
        let job = manager.create_job("never again", BgJobType::Download).unwrap();
        job.add_file("slow://host/x", &place.file("x")).unwrap();
        job.set_minimum_retry_delay(Duration::MAX).unwrap();
        job.set_no_progress_timeout(Duration::MAX).unwrap();
        job.resume().unwrap();
        job.claim()
            .unwrap()
            .fail(support::transient(hresult::BG_E_CONNECTION_CLOSED), None)
            .unwrap();
        id = job.get_id();
    }
    let clock = Arc::new(ManualClock::new());
    let slow = Arc::new(SlowTransport { size: 1 << 20, pause: Duration::ZERO });
    let manager =
        Manager::builder().clock(clock.clone()).transport(slow).store(place.store()).try_build();
    let manager = manager.unwrap();
    let job = manager.get_job(id).unwrap();
    for step in [Duration::from_secs(1000 * 365 * 24 * 3600), Duration::MAX] {
        clock.advance(step);
        manager.wait_engine_pass();
        manager.wait_engine_pass();
        assert_eq!(job.get_state(), BgJobState::TransientError);
        assert_eq!(job.get_error_count(), 1);
    }
    job.resume().unwrap();
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred, "resume still retries at once");
}

#[test]
fn the_golden_store_of_format_version_one_keeps_opening() {
    let place = Place::new();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/store-v1");
    std::fs::create_dir_all(place.store()).unwrap();
    for entry in std::fs::read_dir(&golden).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), place.store().join(entry.file_name())).unwrap();
    }
    let manager = Manager::builder()
        .without_engine()
        .retention(None)
        .store(place.store())
        .try_build()
        .unwrap();
    let jobs = manager.enum_all_jobs();
    assert!(!jobs.is_empty(), "the golden jobs come back");
    for job in &jobs {
        assert!(job.get_progress().is_consistent());
        assert!(!matches!(job.get_state(), BgJobState::Connecting | BgJobState::Transferring));
        let _ = job.get_times();
    }
    assert!(manager.unreadable_jobs().is_empty());
}

#[test]
fn times_before_and_after_a_restart_are_identical_to_the_nanosecond() {
    let place = Place::new();
    let (id, times);
    {
        let manager = place.driven();
        let job = manager.create_job("timed", BgJobType::Download).unwrap();
        support::clock_after(SystemTime::now());
        job.set_description("touched").unwrap();
        id = job.get_id();
        times = job.get_times();
    }
    assert_eq!(place.driven().get_job(id).unwrap().get_times(), times);
}

/// The fault points reached, in order.
type PointLog = Arc<parking_lot::Mutex<Vec<String>>>;
use crate::support::hooks::HookGuard;

/// Collects the fault points reached for paths under `dir` (feature `_test-hooks`); tests of
/// this file run in parallel, each watching its own directory.
fn watch_points(dir: &Path) -> (PointLog, HookGuard) {
    let log = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let hook = {
        let (dir, log) = (dir.to_owned(), Arc::clone(&log));
        // The fault hook is one per process, shared with the other tests of the binary.
        crate::support::hooks::add_fault_hook(move |name, path| {
            if path.starts_with(&dir) {
                log.lock().push(name.to_owned());
            }
        })
    };
    (log, hook)
}

#[test]
fn progress_is_checkpointed_at_a_bounded_rate_never_per_chunk() {
    let place = Place::new();
    let (points, _hook) = watch_points(place.dir.path());
    // About 250 chunks of 64 KiB, a millisecond apart.
    let slow = Arc::new(SlowTransport { size: 16 << 20, pause: Duration::from_millis(1) });
    let interval = Duration::from_millis(50);
    let manager = Manager::builder()
        .transport(slow)
        .store(place.store())
        .checkpoint_interval(interval)
        .try_build()
        .unwrap();
    let job = manager.create_job("checkpointed", BgJobType::Download).unwrap();
    job.add_file("slow://host/x", &place.file("x")).unwrap();
    let start = std::time::Instant::now();
    job.resume().unwrap();
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred);
    let elapsed = start.elapsed();
    let syncs = points.lock().iter().filter(|p| *p == "checkpoint:synced").count();
    let most = (elapsed.as_millis() / interval.as_millis()) as usize + 2;
    assert!(syncs >= 1, "at least one checkpoint in {elapsed:?}");
    assert!(syncs <= most, "{syncs} checkpoint syncs in {elapsed:?}, for 256 chunks");
}

#[derive(Default)]
struct FileLog(Arc<parking_lot::Mutex<Vec<String>>>);

impl BackgroundCopyCallback for FileLog {
    fn file_transferred(&self, _job: &Job, _file: &JobFile) {
        self.0.lock().push("callback".to_owned());
    }
}

#[test]
fn file_transferred_fires_only_once_the_bytes_and_the_record_are_on_disk() {
    let place = Place::new();
    let (points, _hook) = watch_points(place.dir.path());
    let manager = place.driven();
    let job = manager.create_job("announced", BgJobType::Download).unwrap();
    job.add_file("https://example.com/a", &place.file("a")).unwrap();
    job.set_notify_flags(BgNotify::FILE_TRANSFERRED).unwrap();
    job.set_notify_interface(Some(Arc::new(FileLog(Arc::clone(&points))))).unwrap();
    job.resume().unwrap();
    let driver = support::claim_connected(&job);
    support::transfer_file(&driver, 0, b"the bytes");
    wait_until("the callback", || points.lock().iter().any(|p| p == "callback"));
    let log = points.lock().clone();
    let at = |name: &str| log.iter().position(|p| p == name).unwrap_or(usize::MAX);
    let synced = at("finish:synced");
    let recorded = log.iter().enumerate().skip(synced).find(|(_, p)| *p == "store:after-commit");
    let callback = at("callback");
    assert!(synced < callback, "{log:?}");
    assert!(recorded.is_some_and(|(i, _)| i < callback), "record before callback: {log:?}");
}

/// The store holds URLs and custom headers (`Authorization: Bearer ...`): it is private to its
/// user whoever created it, the library included (issue 15, R13).
#[cfg(unix)]
#[test]
fn a_store_is_private_whoever_created_it() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let place = Place::new();
    // Made by the library.
    let manager = Manager::open(place.store()).unwrap();
    assert_eq!(mode(&place.store()), 0o700);
    assert_eq!(mode(&place.store().join("bgcopy.redb")), 0o600);
    drop(manager);
    // Made by someone else, open to all: made private on the next open.
    std::fs::set_permissions(place.store(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = place.store().join("bgcopy.redb");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _manager = Manager::open(place.store()).unwrap();
    assert_eq!((mode(&place.store()), mode(&db)), (0o700, 0o600));
}

/// A reader (`bgcopy list`) must not change what it reads: a read-only open runs no recovery,
/// writes nothing, and refuses every change (R13).
#[test]
fn a_read_only_open_changes_nothing_and_refuses_changes() {
    let place = Place::new();
    let id = {
        let manager = place.driven();
        let job = manager.create_job("read me", BgJobType::Download).unwrap();
        job.add_file("https://example.com/a", &place.file("a")).unwrap();
        job.get_id()
    };
    // An orphaned temporary file of the job, which a normal open would remove.
    let job_tag = format!("{:08x}", (id.as_u128() >> 96) as u32);
    let orphan = place.file(&format!(".a.{job_tag}-0.bgcopy.tmp"));
    std::fs::write(&orphan, b"partial").unwrap();
    let db = place.store().join("bgcopy.redb");
    let before = std::fs::read(&db).unwrap();
    {
        let reader = Manager::builder()
            .store(place.store())
            .read_only(true)
            .retention(Some(Duration::ZERO))
            .try_build()
            .unwrap();
        assert!(!reader.has_engine());
        let job = reader.get_job(id).expect("listed, not cancelled for its age");
        assert_eq!(job.get_display_name(), "read me");
        let refused = job.set_description("changed").unwrap_err();
        assert_eq!(refused.hresult(), hresult::E_ACCESSDENIED, "{refused}");
        assert_eq!(job.get_description(), "");
        assert_eq!(
            reader.create_job("new", BgJobType::Download).unwrap_err().hresult(),
            hresult::E_ACCESSDENIED
        );
        // It holds the store like any open.
        assert_eq!(Manager::open(place.store()).unwrap_err().hresult(), 0x8007_0020);
    }
    assert!(orphan.exists(), "no recovery ran");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the database was not written");
}
