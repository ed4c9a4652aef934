//! Conformance with the documented Windows BITS behaviour (Microsoft's reference pages, restated in
//! `spec/bits-semantics.md`), with bgcopy's answers to the open questions (DESIGN section 4) where
//! the documentation is silent. Each test names the rule it checks and the spec section it comes
//! from. States are reached deterministically through the driver API on a manager without engine.

use bgcopy::clock::ManualClock;
use bgcopy::transport::{TransferError, TransferRequest, TransferSink, Transport};
use bgcopy::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

const CALLBACK_TIMEOUT: Duration = Duration::from_secs(30);

fn manager() -> Manager {
    Manager::builder().without_engine().build()
}

fn new_job(manager: &Manager) -> Job {
    manager.create_job("docs", BgJobType::Download).expect("create_job")
}

fn hr<T: std::fmt::Debug>(result: Result<T>) -> u32 {
    result.expect_err("the call should fail").hresult()
}

/// A job with `n` http files whose destinations are in `dir`.
fn job_with_files(manager: &Manager, dir: &Path, n: usize) -> Job {
    let job = new_job(manager);
    for i in 0..n {
        job.add_file(&format!("http://example.com/{i}"), &dir.join(format!("out{i}")))
            .expect("add_file");
    }
    job
}

/// Claims a queued job and connects (`Queued → Connecting → Transferring`).
fn claim_connected(job: &Job) -> JobDriver {
    let driver = job.claim().expect("claim");
    driver.connected().expect("connected");
    driver
}

/// Transfers file `index` completely with `data` through `driver`.
fn transfer_file(driver: &JobDriver, index: usize, data: &[u8]) {
    let mut transfer = driver.open_file(index).expect("open_file");
    transfer.set_size(Some(data.len() as u64)).expect("set_size");
    transfer.write(data).expect("write");
    transfer.finish().expect("finish");
}

/// Resumes `job` and drives every file to the end (`→ Transferred`).
fn drive_to_transferred(job: &Job) {
    job.resume().expect("resume");
    let driver = claim_connected(job);
    while let Some(file) = driver.next_file() {
        transfer_file(&driver, file.index(), b"payload");
    }
    driver.finish().expect("finish job");
}

/// Resumes `job` and fails its first file with `error` (`→ TransientError` or `Error`).
fn drive_to_failure(job: &Job, error: TransferError) -> BgJobState {
    if job.get_state() != BgJobState::Queued {
        job.resume().expect("resume");
    }
    let driver = claim_connected(job);
    driver.fail(error, Some(0)).expect("fail")
}

fn transient() -> TransferError {
    TransferError::transient(hresult::BG_E_CONNECTION_CLOSED, BgErrorContext::RemoteFile, "cut")
}

fn fatal() -> TransferError {
    TransferError::http_status(404)
}

// The callback that reports each call on a channel (tests/support, shared).
use crate::support::Recorder;

fn next_event(rx: &Receiver<&'static str>) -> &'static str {
    rx.recv_timeout(CALLBACK_TIMEOUT).expect("a callback within the timeout")
}

fn wait_for_state(job: &Job, target: BgJobState) {
    let state = job.wait_until(CALLBACK_TIMEOUT, |state| state == target);
    assert_eq!(state, target, "job stuck in {state:?}");
}

// ---------------------------------------------------------------------------------------------
// Constants and enumerations (spec 2.6-2.10, 4)
// ---------------------------------------------------------------------------------------------

/// Spec 2.6-2.8: the enumerations carry the Windows numeric values.
#[test]
fn enum_values_match_the_windows_enumerations() {
    let states: Vec<u32> = BgJobState::ALL.iter().map(|s| *s as u32).collect();
    assert_eq!(states, (0..=8).collect::<Vec<u32>>());
    assert_eq!(BgJobState::Suspended as u32, 3);
    assert_eq!(BgJobState::Cancelled as u32, 8);
    assert_eq!(
        [BgJobPriority::Foreground, BgJobPriority::High, BgJobPriority::Normal, BgJobPriority::Low]
            .map(|p| p as u32),
        [0, 1, 2, 3]
    );
    assert_eq!(
        [BgJobType::Download, BgJobType::Upload, BgJobType::UploadReply].map(|t| t as u32),
        [0, 1, 2]
    );
    assert_eq!(BgErrorContext::RemoteFile as u32, 5);
    assert_eq!(BgErrorContext::RemoteApplication as u32, 7);
    assert_eq!(BgJobProxyUsage::Autodetect as u32, 3);
}

/// Spec 2.9-2.10: `BG_SIZE_UNKNOWN` is `(UINT64)-1` and the notify bits have their BITS values.
#[test]
fn sentinel_and_notify_flag_values_match_bits() {
    assert_eq!(BG_SIZE_UNKNOWN, u64::MAX);
    assert_eq!(BgNotify::JOB_TRANSFERRED.bits(), 0x01);
    assert_eq!(BgNotify::JOB_ERROR.bits(), 0x02);
    assert_eq!(BgNotify::DISABLE.bits(), 0x04);
    assert_eq!(BgNotify::JOB_MODIFICATION.bits(), 0x08);
    assert_eq!(BgNotify::FILE_TRANSFERRED.bits(), 0x10);
}

/// Spec 4.3: the success codes of `Cancel`/`Complete` and the error codes of the common failures.
#[test]
fn hresult_values_match_bitsmsg_h() {
    assert_eq!(BgSuccess::Ok.hresult(), 0);
    assert_eq!(BgSuccess::PartialComplete.hresult(), 0x0020_0017);
    assert_eq!(BgSuccess::UnableToDeleteFiles.hresult(), 0x0020_001A);
    assert_eq!(BgError::NotFound.hresult(), 0x8020_0001);
    assert_eq!(
        BgError::InvalidState {
            state: BgJobState::Cancelled,
            reason: InvalidStateReason::JobState
        }
        .hresult(),
        0x8020_0002
    );
    assert_eq!(BgError::Empty.hresult(), 0x8020_0003);
    assert_eq!(BgError::FileNotAvailable.hresult(), 0x8020_0004);
    assert_eq!(BgError::ProtocolNotAvailable.hresult(), 0x8020_0005);
    assert_eq!(BgError::ErrorInformationUnavailable.hresult(), 0x8020_000F);
    assert_eq!(hresult::BG_E_STRING_TOO_LONG, 0x8020_0021);
    assert_eq!(hresult::BG_E_TOO_MANY_JOBS_PER_USER, 0x8020_0049);
    assert_eq!(hresult::BG_E_TOO_MANY_FILES_IN_JOB, 0x8020_0051);
    assert_eq!(hresult::E_INVALIDARG, 0x8007_0057);
    assert_eq!(hresult::E_NOTIMPL, 0x8000_4001);
}

/// Spec 1.1 `CreateJob`: every job gets a fresh GUID; DESIGN 2: it prints in registry form and
/// parses back.
#[test]
fn job_ids_are_fresh_guids_that_round_trip_through_text() {
    let manager = manager();
    let a = new_job(&manager).get_id();
    let b = new_job(&manager).get_id();
    assert_ne!(a, b);
    let text = a.to_string();
    assert!(text.starts_with('{') && text.ends_with('}') && text.len() == 38, "{text}");
    assert_eq!(text.parse::<JobId>().expect("parse"), a);
}

// ---------------------------------------------------------------------------------------------
// Manager (spec 1.1, 5.1)
// ---------------------------------------------------------------------------------------------

/// Spec 1.1 `GetJob`: an unknown id is `BG_E_NOT_FOUND`.
#[test]
fn get_job_unknown_id_is_not_found() {
    assert_eq!(hr(manager().get_job(JobId::new_random())), hresult::BG_E_NOT_FOUND);
}

/// Spec 1.1 `CreateJob`, DESIGN 4: only download jobs; upload types are `E_NOTIMPL`.
#[test]
fn create_job_upload_types_are_not_implemented() {
    let manager = manager();
    assert_eq!(hr(manager.create_job("u", BgJobType::Upload)), hresult::E_NOTIMPL);
    assert_eq!(hr(manager.create_job("r", BgJobType::UploadReply)), hresult::E_NOTIMPL);
    assert!(manager.enum_jobs().is_empty());
}

/// Spec 1.1 `CreateJob` and 5.1: a display name of at most 256 UTF-16 units; longer is
/// `E_INVALIDARG` at creation (DESIGN 4).
#[test]
fn create_job_display_name_over_256_units_is_invalid_arg() {
    let manager = manager();
    manager.create_job(&"n".repeat(256), BgJobType::Download).expect("256 is allowed");
    assert_eq!(
        hr(manager.create_job(&"n".repeat(257), BgJobType::Download)),
        hresult::E_INVALIDARG
    );
    // 129 characters outside the BMP are 258 UTF-16 units.
    assert_eq!(
        hr(manager.create_job(&"😀".repeat(129), BgJobType::Download)),
        hresult::E_INVALIDARG
    );
    assert_eq!(manager.enum_jobs().len(), 1);
}

/// Spec 5.1: MaxJobsPerUser defaults to 60 (`BG_E_TOO_MANY_JOBS_PER_USER`).
#[test]
fn create_job_past_60_jobs_per_owner_is_too_many_jobs_per_user() {
    let manager = manager();
    for i in 0..60 {
        manager.create_job(&format!("j{i}"), BgJobType::Download).expect("within the limit");
    }
    assert_eq!(
        hr(manager.create_job("one too many", BgJobType::Download)),
        hresult::BG_E_TOO_MANY_JOBS_PER_USER
    );
}

/// Spec 5.1: MaxJobsPerMachine defaults to 300 (`BG_E_TOO_MANY_JOBS_PER_MACHINE`).
#[test]
fn create_job_past_300_jobs_is_too_many_jobs_per_machine() {
    let manager = manager();
    for owner in 0..5 {
        let as_owner = manager.as_owner(&format!("user{owner}"));
        for i in 0..60 {
            as_owner.create_job(&format!("j{i}"), BgJobType::Download).expect("within limits");
        }
    }
    let sixth = manager.as_owner("user5");
    assert_eq!(
        hr(sixth.create_job("one too many", BgJobType::Download)),
        hresult::BG_E_TOO_MANY_JOBS_PER_MACHINE
    );
}

/// Spec 1.1 `EnumJobs` (flags 0): the caller's jobs only; final jobs are not listed (spec 3.7).
#[test]
fn enum_jobs_lists_only_the_callers_non_final_jobs() {
    let manager = manager();
    let mine = new_job(&manager);
    let cancelled = new_job(&manager);
    let theirs = new_job(&manager.as_owner("someone else"));
    cancelled.cancel().expect("cancel");
    let ids: Vec<JobId> = manager.enum_jobs().iter().map(|j| j.get_id()).collect();
    assert_eq!(ids, vec![mine.get_id()]);
    assert!(manager.enum_all_jobs().iter().any(|j| j.get_id() == theirs.get_id()));
}

/// Spec 1.1 `GetErrorDescription`: text for a known code; `0x80070717` when there is none.
#[test]
fn get_error_description_knows_bits_codes_and_rejects_unknown_ones() {
    let manager = manager();
    let text = manager.get_error_description(hresult::BG_E_EMPTY).expect("known code");
    assert!(!text.is_empty());
    assert_eq!(hr(manager.get_error_description(0xDEAD_BEEF)), 0x8007_0717);
}

// ---------------------------------------------------------------------------------------------
// New job defaults (spec 5.1, DESIGN 3)
// ---------------------------------------------------------------------------------------------

/// Spec 5.1: defaults of a new job.
#[test]
fn new_job_has_the_bits_defaults() {
    let job = new_job(&manager());
    assert_eq!(job.get_priority(), BgJobPriority::Normal);
    assert_eq!(job.get_minimum_retry_delay(), Duration::from_secs(600));
    assert_eq!(job.get_no_progress_timeout(), Duration::from_secs(1_209_600));
    assert_eq!(
        job.get_proxy_settings(),
        BgProxySettings { usage: BgJobProxyUsage::Preconfig, proxy_list: None, bypass_list: None }
    );
    assert_eq!(job.get_description(), "");
    assert_eq!(job.get_error_count(), 0);
    assert!(!job.get_owner().is_empty());
    assert_eq!(hr(job.get_error()), hresult::BG_E_ERROR_INFORMATION_UNAVAILABLE);
}

/// Spec 2.3 and DESIGN 4: creation time set once, modification time not before it, no transfer
/// completion time before `Transferred`.
#[test]
fn new_job_times_have_no_transfer_completion_time() {
    let before = std::time::SystemTime::now();
    let job = new_job(&manager());
    let times = job.get_times();
    assert!(times.creation_time >= before);
    assert!(times.modification_time >= times.creation_time);
    assert_eq!(times.transfer_completion_time, None);
}

// ---------------------------------------------------------------------------------------------
// Setters (spec 1.2)
// ---------------------------------------------------------------------------------------------

/// Spec 1.2 `SetDisplayName`: over 256 units is `BG_E_STRING_TOO_LONG` (DESIGN 4), name kept.
#[test]
fn set_display_name_over_256_units_is_string_too_long() {
    let job = new_job(&manager());
    job.set_display_name(&"x".repeat(256)).expect("256 is allowed");
    assert_eq!(hr(job.set_display_name(&"y".repeat(257))), hresult::BG_E_STRING_TOO_LONG);
    assert_eq!(job.get_display_name(), "x".repeat(256));
}

/// Spec 1.2 `SetDescription`: at most 1024 units; longer is `BG_E_STRING_TOO_LONG`.
#[test]
fn set_description_over_1024_units_is_string_too_long() {
    let job = new_job(&manager());
    job.set_description(&"d".repeat(1024)).expect("1024 is allowed");
    assert_eq!(hr(job.set_description(&"e".repeat(1025))), hresult::BG_E_STRING_TOO_LONG);
    assert_eq!(job.get_description(), "d".repeat(1024));
}

/// Spec 1.2 `SetPriority`: every priority is accepted and read back.
#[test]
fn set_priority_round_trips_every_priority() {
    let job = new_job(&manager());
    for p in [BgJobPriority::Foreground, BgJobPriority::High, BgJobPriority::Low] {
        job.set_priority(p).expect("set_priority");
        assert_eq!(job.get_priority(), p);
    }
}

/// Spec 1.2 `SetNotifyFlags`: an undefined bit (`BG_NOTIFY_FILE_RANGES_TRANSFERRED`, 0x20) is
/// `E_NOTIMPL`, flags kept.
#[test]
fn set_notify_flags_with_undefined_bit_is_not_implemented() {
    let job = new_job(&manager());
    let bad = BgNotify::from_bits_retain(0x20 | 0x1);
    assert_eq!(hr(job.set_notify_flags(bad)), hresult::E_NOTIMPL);
    assert_eq!(job.get_notify_flags().bits(), 0x3);
}

/// Spec 1.2 `SetMinimumRetryDelay`: values below 5 s are raised to 5 s.
#[test]
fn set_minimum_retry_delay_below_five_seconds_is_raised_to_five() {
    let job = new_job(&manager());
    job.set_minimum_retry_delay(Duration::from_secs(1)).expect("set");
    assert_eq!(job.get_minimum_retry_delay(), Duration::from_secs(5));
    job.set_minimum_retry_delay(Duration::from_secs(60)).expect("set");
    assert_eq!(job.get_minimum_retry_delay(), Duration::from_secs(60));
}

/// Spec 1.2 `SetNoProgressTimeout`: any value including 0 is accepted and read back.
#[test]
fn set_no_progress_timeout_accepts_zero() {
    let job = new_job(&manager());
    job.set_no_progress_timeout(Duration::ZERO).expect("set 0");
    assert_eq!(job.get_no_progress_timeout(), Duration::ZERO);
}

/// Spec 1.2 `SetProxySettings`: lists only with `Override`, which needs a proxy list
/// (`E_INVALIDARG`); each list at most 4000 characters (DESIGN 4).
#[test]
fn set_proxy_settings_follows_the_list_rules() {
    let job = new_job(&manager());
    assert_eq!(
        hr(job.set_proxy_settings(BgJobProxyUsage::Override, None, None)),
        hresult::E_INVALIDARG
    );
    assert_eq!(
        hr(job.set_proxy_settings(BgJobProxyUsage::Preconfig, Some("proxy:80"), None)),
        hresult::E_INVALIDARG
    );
    assert_eq!(
        hr(job.set_proxy_settings(BgJobProxyUsage::Override, Some(&"p".repeat(4001)), None)),
        hresult::BG_E_PROXY_LIST_TOO_LARGE
    );
    assert_eq!(
        hr(job.set_proxy_settings(
            BgJobProxyUsage::Override,
            Some("p:80"),
            Some(&"b".repeat(4001))
        )),
        hresult::BG_E_PROXY_BYPASS_LIST_TOO_LARGE
    );
    job.set_proxy_settings(BgJobProxyUsage::Override, Some("proxy:8080"), Some("<local>"))
        .expect("valid override");
    let settings = job.get_proxy_settings();
    assert_eq!(settings.usage, BgJobProxyUsage::Override);
    assert_eq!(settings.proxy_list.as_deref(), Some("proxy:8080"));
    assert_eq!(settings.bypass_list.as_deref(), Some("<local>"));
}

/// Spec 1.2 `TakeOwnership`: the caller (here another owner's handle) becomes the owner.
#[test]
fn take_ownership_makes_the_caller_the_owner() {
    let manager = manager();
    let job = new_job(&manager);
    let admin = manager.as_owner("administrator");
    let theirs = admin.get_job(job.get_id()).expect("get_job");
    theirs.take_ownership().expect("take_ownership");
    assert_eq!(job.get_owner(), "administrator");
}

/// Spec 2.3: setters update the modification time.
#[test]
fn setters_update_the_modification_time() {
    let job = new_job(&manager());
    let before = job.get_times().modification_time;
    crate::support::wait_for_wall_clock_past(before);
    job.set_description("changed").expect("set_description");
    assert!(job.get_times().modification_time > before);
}

// ---------------------------------------------------------------------------------------------
// Adding files (spec 1.2, 5.2, DESIGN 4)
// ---------------------------------------------------------------------------------------------

/// Spec 5.2: http, https, file URLs and plain absolute paths are accepted.
#[test]
fn add_file_accepts_http_https_file_urls_and_absolute_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = new_job(&manager());
    let source = dir.path().join("src");
    job.add_file("http://example.com/a", &dir.path().join("a")).expect("http");
    job.add_file("https://example.com/b", &dir.path().join("b")).expect("https");
    job.add_file(&format!("file://{}", source.display()), &dir.path().join("c")).expect("file");
    job.add_file(source.to_str().expect("utf-8"), &dir.path().join("d")).expect("path");
    assert_eq!(job.get_progress().files_total, 4);
}

/// Spec 5.2 and DESIGN 4: bad names are `E_INVALIDARG` and the job is left unchanged.
#[test]
fn add_file_with_bad_names_is_invalid_arg_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = new_job(&manager());
    let ok_local = dir.path().join("ok");
    job.add_file("http://example.com/first", &ok_local).expect("first file");
    let long_url = format!("http://example.com/{}", "a".repeat(2200));
    let cases: Vec<(&str, PathBuf)> = vec![
        ("ftp://example.com/x", dir.path().join("x1")),
        ("http://example.com/x", PathBuf::from("relative/name")),
        ("", dir.path().join("x2")),
        ("http://example.com/\0x", dir.path().join("x3")),
        (&long_url, dir.path().join("x4")),
        ("http://example.com/dup", ok_local.clone()),
    ];
    for (remote, local) in cases {
        assert_eq!(hr(job.add_file(remote, &local)), hresult::E_INVALIDARG, "{remote:?} {local:?}");
    }
    assert_eq!(job.get_progress().files_total, 1);
    assert_eq!(job.enum_files().len(), 1);
}

/// DESIGN 4: `add_file_set` is all or nothing.
#[test]
fn add_file_set_with_one_bad_entry_adds_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = new_job(&manager());
    let files = [
        BgFileInfo::new("http://example.com/good", dir.path().join("good")),
        BgFileInfo::new("gopher://example.com/bad", dir.path().join("bad")),
    ];
    assert_eq!(hr(job.add_file_set(&files)), hresult::E_INVALIDARG);
    assert_eq!(job.get_progress().files_total, 0);
    assert!(job.enum_files().is_empty());
}

/// Spec 5.1: MaxFilesPerJob defaults to 200 (`BG_E_TOO_MANY_FILES_IN_JOB`), nothing added.
#[test]
fn add_file_past_200_files_is_too_many_files_in_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = new_job(&manager());
    let set: Vec<BgFileInfo> = (0..200)
        .map(|i| {
            BgFileInfo::new(format!("http://example.com/{i}"), dir.path().join(format!("f{i}")))
        })
        .collect();
    job.add_file_set(&set).expect("200 files");
    assert_eq!(
        hr(job.add_file("http://example.com/x", &dir.path().join("x"))),
        hresult::BG_E_TOO_MANY_FILES_IN_JOB
    );
    assert_eq!(job.get_progress().files_total, 200);
}

/// Spec 2.1-2.2: files of unknown size make the job total `BG_SIZE_UNKNOWN`; once every size is
/// known the total is their sum.
#[test]
fn bytes_total_is_unknown_until_every_file_size_is_known() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 2);
    let p = job.get_progress();
    assert_eq!((p.bytes_total, p.files_total), (BG_SIZE_UNKNOWN, 2));
    job.resume().expect("resume");
    let driver = claim_connected(&job);
    let mut first = driver.open_file(0).expect("open 0");
    first.set_size(Some(10)).expect("size 0");
    assert_eq!(job.get_progress().bytes_total, BG_SIZE_UNKNOWN);
    drop(first);
    let mut second = driver.open_file(1).expect("open 1");
    second.set_size(Some(32)).expect("size 1");
    assert_eq!(job.get_progress().bytes_total, 42);
}

// ---------------------------------------------------------------------------------------------
// State machine (spec 3.2, 3.3, DESIGN 4)
// ---------------------------------------------------------------------------------------------

/// Spec 3.3: `Suspend` on a suspended job is accepted and it stays suspended.
#[test]
fn suspend_of_a_suspended_job_is_accepted() {
    let job = new_job(&manager());
    job.suspend().expect("suspend");
    assert_eq!(job.get_state(), BgJobState::Suspended);
}

/// Spec 3.2 T2 and 3.3: `Resume` with files → `Queued`; again in `Queued` → unchanged.
#[test]
fn resume_queues_a_suspended_job_and_is_accepted_while_queued() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    job.resume().expect("resume");
    assert_eq!(job.get_state(), BgJobState::Queued);
    job.resume().expect("resume while queued");
    assert_eq!(job.get_state(), BgJobState::Queued);
}

/// Spec 3.2 T15: `Suspend` while transferring → `Suspended`, and the transfer is stopped.
#[test]
fn suspend_while_transferring_stops_the_transfer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    job.resume().expect("resume");
    let driver = claim_connected(&job);
    let mut transfer = driver.open_file(0).expect("open");
    transfer.set_size(Some(8)).expect("size");
    transfer.write(b"1234").expect("write");
    job.suspend().expect("suspend");
    assert_eq!(job.get_state(), BgJobState::Suspended);
    assert!(transfer.should_stop());
    assert_eq!(transfer.write(b"5678"), Err(TransferError::Stopped));
    assert_eq!(job.get_progress().bytes_transferred, 4);
}

/// DESIGN 4: `Suspend` from `Error` and from `Transferred` reports `Suspended`.
#[test]
fn suspend_from_error_and_transferred_gives_suspended() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manager = manager();
    let failed = job_with_files(&manager, dir.path(), 1);
    assert_eq!(drive_to_failure(&failed, fatal()), BgJobState::Error);
    failed.suspend().expect("suspend from Error");
    assert_eq!(failed.get_state(), BgJobState::Suspended);
    let done = new_job(&manager);
    done.add_file("http://example.com/x", &dir.path().join("x")).expect("add");
    drive_to_transferred(&done);
    done.suspend().expect("suspend from Transferred");
    assert_eq!(done.get_state(), BgJobState::Suspended);
}

/// Spec 3.3 (‡) and DESIGN 4: `Resume` of a transferred job with nothing left is `BG_E_EMPTY`
/// and the state stays; after a new file it queues the job (T18).
#[test]
fn resume_of_transferred_job_needs_a_new_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    drive_to_transferred(&job);
    assert_eq!(hr(job.resume()), hresult::BG_E_EMPTY);
    assert_eq!(job.get_state(), BgJobState::Transferred);
    job.add_file("http://example.com/more", &dir.path().join("more")).expect("add in TD");
    job.resume().expect("resume with a new file");
    assert_eq!(job.get_state(), BgJobState::Queued);
}

/// Spec 3.1, 3.7: in a final state every change is `BG_E_INVALID_STATE`; getters keep working;
/// the job left the manager (`BG_E_NOT_FOUND`, not enumerated).
#[test]
fn final_jobs_reject_every_change_and_leave_the_manager() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manager = manager();
    for finish in ["cancel", "complete"] {
        let job = job_with_files(&manager, dir.path(), 0);
        job.set_display_name(finish).expect("rename");
        let expected = if finish == "cancel" {
            job.cancel().expect("cancel");
            BgJobState::Cancelled
        } else {
            job.complete().expect("complete");
            BgJobState::Acknowledged
        };
        assert_eq!(job.get_state(), expected);
        let inv = hresult::BG_E_INVALID_STATE;
        let local = dir.path().join(format!("late-{finish}"));
        assert_eq!(hr(job.add_file("http://example.com/x", &local)), inv);
        assert_eq!(hr(job.add_file_set(&[BgFileInfo::new("http://example.com/y", &local)])), inv);
        assert_eq!(hr(job.suspend()), inv);
        assert_eq!(hr(job.resume()), inv);
        assert_eq!(hr(job.cancel()), inv);
        assert_eq!(hr(job.complete()), inv);
        assert_eq!(hr(job.set_display_name("n")), inv);
        assert_eq!(hr(job.set_description("d")), inv);
        assert_eq!(hr(job.set_priority(BgJobPriority::High)), inv);
        assert_eq!(hr(job.set_notify_flags(BgNotify::JOB_ERROR)), inv);
        assert_eq!(hr(job.set_notify_interface(None)), inv);
        assert_eq!(hr(job.set_minimum_retry_delay(Duration::from_secs(30))), inv);
        assert_eq!(hr(job.set_no_progress_timeout(Duration::from_secs(30))), inv);
        assert_eq!(hr(job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None)), inv);
        assert_eq!(hr(job.take_ownership()), inv);
        assert_eq!(job.get_display_name(), finish);
        assert_eq!(job.get_priority(), BgJobPriority::Normal);
        assert_eq!(hr(manager.get_job(job.get_id())), hresult::BG_E_NOT_FOUND);
        assert!(!manager.enum_jobs().iter().any(|j| j.get_id() == job.get_id()));
    }
}

// ---------------------------------------------------------------------------------------------
// Progress, Complete and Cancel (spec 2.1-2.3, 3.6)
// ---------------------------------------------------------------------------------------------

/// Spec 2.1-2.2: `files_transferred` rises when a file's last byte is written, before
/// `Complete`; `completed` turns true only when `Complete` made the file visible.
#[test]
fn files_transferred_counts_before_complete_and_completed_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 2);
    job.resume().expect("resume");
    let driver = claim_connected(&job);
    transfer_file(&driver, 0, b"abc");
    let p = job.get_progress();
    assert_eq!((p.files_transferred, p.bytes_transferred), (1, 3));
    let first = &job.enum_files()[0];
    assert_eq!(
        first.get_progress(),
        BgFileProgress { bytes_total: 3, bytes_transferred: 3, completed: false }
    );
    transfer_file(&driver, 1, b"defg");
    driver.finish().expect("finish");
    let p = job.get_progress();
    assert_eq!(
        p,
        BgJobProgress {
            bytes_total: 7,
            bytes_transferred: 7,
            files_total: 2,
            files_transferred: 2
        }
    );
    assert!(!dir.path().join("out0").exists());
    job.complete().expect("complete");
    assert!(job.enum_files().iter().all(|f| f.get_progress().completed));
    assert_eq!(std::fs::read(dir.path().join("out1")).expect("visible"), b"defg");
}

/// Spec 2.3: the transfer completion time is set when the job enters `Transferred`.
#[test]
fn transfer_completion_time_is_set_on_entering_transferred() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    drive_to_transferred(&job);
    let times = job.get_times();
    let done = times.transfer_completion_time.expect("set in Transferred");
    assert!(done >= times.creation_time);
    assert!(times.modification_time >= times.creation_time);
}

/// Spec 3.6: `Complete` with only some files transferred keeps those, deletes the others'
/// temporary files, and returns `BG_S_PARTIAL_COMPLETE`.
#[test]
fn complete_with_some_files_unfinished_is_partial_complete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 2);
    job.resume().expect("resume");
    let driver = claim_connected(&job);
    transfer_file(&driver, 0, b"kept");
    let mut second = driver.open_file(1).expect("open 1");
    second.set_size(Some(10)).expect("size");
    second.write(b"half").expect("write");
    let temp = job.enum_files()[1].get_temporary_name().expect("temporary file exists");
    assert!(temp.exists());
    drop(second);
    let outcome = job.complete().expect("complete");
    assert_eq!(outcome, BgSuccess::PartialComplete);
    assert_eq!(outcome.hresult(), hresult::BG_S_PARTIAL_COMPLETE);
    assert_eq!(job.get_state(), BgJobState::Acknowledged);
    assert_eq!(std::fs::read(dir.path().join("out0")).expect("kept"), b"kept");
    assert!(!dir.path().join("out1").exists());
    assert!(!temp.exists(), "the partial temporary file is deleted");
}

/// Spec 3.6: `Cancel` deletes the temporary files and never touches a destination that existed.
#[test]
fn cancel_deletes_temporary_files_and_keeps_existing_destinations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    let destination = dir.path().join("out0");
    std::fs::write(&destination, b"precious").expect("existing destination");
    job.resume().expect("resume");
    let driver = claim_connected(&job);
    let mut transfer = driver.open_file(0).expect("open");
    transfer.set_size(Some(6)).expect("size");
    transfer.write(b"new").expect("write");
    let temp = transfer.temp_path().to_path_buf();
    drop(transfer);
    assert_eq!(job.cancel().expect("cancel"), BgSuccess::Ok);
    assert!(!temp.exists());
    assert_eq!(std::fs::read(&destination).expect("untouched"), b"precious");
}

/// DESIGN 4: when a file restarts from zero its bytes leave the job's count.
#[test]
fn restarting_a_file_subtracts_its_bytes_from_the_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    job.resume().expect("resume");
    let driver = claim_connected(&job);
    let mut transfer = driver.open_file(0).expect("open");
    transfer.set_size(Some(10)).expect("size");
    transfer.write(b"12345").expect("write");
    assert_eq!(job.get_progress().bytes_transferred, 5);
    transfer.restart().expect("restart");
    assert_eq!(job.get_progress().bytes_transferred, 0);
    assert_eq!(job.enum_files()[0].get_progress().bytes_transferred, 0);
}

// ---------------------------------------------------------------------------------------------
// Errors (spec 1.6, 3.5, DESIGN 4)
// ---------------------------------------------------------------------------------------------

/// Spec 3.2 T9 and 1.6: a transient failure → `TransientError`, error count + 1, and the error
/// object reports context, code, file and protocol.
#[test]
fn transient_failure_gives_transient_error_with_error_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    assert_eq!(drive_to_failure(&job, transient()), BgJobState::TransientError);
    assert_eq!(job.get_state(), BgJobState::TransientError);
    assert_eq!(job.get_error_count(), 1);
    let error = job.get_error().expect("error information in TransientError");
    assert_eq!(error.get_error(), (BgErrorContext::RemoteFile, hresult::BG_E_CONNECTION_CLOSED));
    assert_eq!(error.get_file().expect("file").get_remote_name(), "http://example.com/0");
    assert_eq!(error.get_protocol().expect("protocol"), "http");
    assert!(!error.get_error_description().is_empty());
    assert!(!error.get_error_context_description().is_empty());
}

/// Spec 1.6 `GetFile`/`GetProtocol`: an error not tied to a file has neither
/// (`BG_E_FILE_NOT_AVAILABLE`, `BG_E_PROTOCOL_NOT_AVAILABLE`).
#[test]
fn error_not_tied_to_a_file_has_no_file_and_no_protocol() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    job.resume().expect("resume");
    let driver = claim_connected(&job);
    let error =
        TransferError::fatal(hresult::E_ACCESSDENIED, BgErrorContext::GeneralQueueManager, "x");
    assert_eq!(driver.fail(error, None).expect("fail"), BgJobState::Error);
    let report = job.get_error().expect("error information in Error");
    assert_eq!(hr(report.get_file()), hresult::BG_E_FILE_NOT_AVAILABLE);
    assert_eq!(hr(report.get_protocol()), hresult::BG_E_PROTOCOL_NOT_AVAILABLE);
}

/// Spec 3.2 T12: `Resume` in `TransientError` retries at once (`Queued`); DESIGN 4: the error
/// report is then unavailable; spec 3.5: the error count is never reset.
#[test]
fn resume_from_transient_error_queues_and_error_count_keeps_growing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    drive_to_failure(&job, transient());
    job.resume().expect("resume");
    assert_eq!(job.get_state(), BgJobState::Queued);
    assert_eq!(hr(job.get_error()), hresult::BG_E_ERROR_INFORMATION_UNAVAILABLE);
    assert_eq!(drive_to_failure(&job, transient()), BgJobState::TransientError);
    assert_eq!(job.get_error_count(), 2);
}

/// Spec 1.6: the error report lasts until the job transfers again.
#[test]
fn error_report_is_gone_once_the_job_transfers_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    drive_to_failure(&job, transient());
    job.retry_now().expect("retry timer");
    assert_eq!(job.get_state(), BgJobState::Queued);
    let _driver = claim_connected(&job);
    assert_eq!(job.get_state(), BgJobState::Transferring);
    assert_eq!(hr(job.get_error()), hresult::BG_E_ERROR_INFORMATION_UNAVAILABLE);
}

/// Spec 1.2 `SetNoProgressTimeout` and 3.2 T13: with a no-progress timeout of 0 every error is
/// final.
#[test]
fn zero_no_progress_timeout_makes_transient_failures_final() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    job.set_no_progress_timeout(Duration::ZERO).expect("set");
    assert_eq!(drive_to_failure(&job, transient()), BgJobState::Error);
    assert_eq!(job.get_error_count(), 1);
}

/// Spec 1.2 `SetMinimumRetryDelay`: a retry delay longer than the no-progress timeout means no
/// retry: the job goes to `Error`.
#[test]
fn retry_delay_beyond_no_progress_timeout_makes_transient_failures_final() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    job.set_no_progress_timeout(Duration::from_secs(10)).expect("set");
    job.set_minimum_retry_delay(Duration::from_secs(60)).expect("set");
    assert_eq!(drive_to_failure(&job, transient()), BgJobState::Error);
}

/// Spec 3.2 T13: the no-progress timeout moves `TransientError` to `Error`, keeping the report.
#[test]
fn no_progress_timeout_moves_transient_error_to_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    drive_to_failure(&job, transient());
    job.fail_no_progress().expect("no-progress timeout");
    assert_eq!(job.get_state(), BgJobState::Error);
    let (context, code) = job.get_error().expect("report kept").get_error();
    assert_eq!((context, code), (BgErrorContext::RemoteFile, hresult::BG_E_CONNECTION_CLOSED));
}

/// DESIGN 4: a missing source (HTTP 404) is fatal with context `RemoteFile` and
/// `0x80190194`.
#[test]
fn http_404_is_fatal_remote_file_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    assert_eq!(drive_to_failure(&job, fatal()), BgJobState::Error);
    let (context, code) = job.get_error().expect("report").get_error();
    assert_eq!((context, code), (BgErrorContext::RemoteFile, 0x8019_0194));
}

// ---------------------------------------------------------------------------------------------
// Callbacks (spec 1.7, 3.8, DESIGN 3-4)
// ---------------------------------------------------------------------------------------------

/// Spec 1.7: `JobTransferred` fires when the job enters `Transferred` (default flags).
#[test]
fn job_transferred_fires_on_entering_transferred() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    let (callback, rx) = Recorder::new();
    job.set_notify_interface(Some(callback)).expect("register");
    drive_to_transferred(&job);
    assert_eq!(next_event(&rx), "job_transferred");
}

/// Spec 1.7: `JobError` fires on entering `Error`, never for `TransientError`: after a transient
/// failure and a successful retry the first callback is `job_transferred`.
#[test]
fn job_error_fires_for_error_but_not_for_transient_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manager = manager();
    let job = job_with_files(&manager, dir.path(), 1);
    let (callback, rx) = Recorder::new();
    job.set_notify_interface(Some(callback)).expect("register");
    drive_to_failure(&job, transient());
    drive_to_transferred(&job);
    assert_eq!(next_event(&rx), "job_transferred");

    let failing = new_job(&manager);
    failing.add_file("http://example.com/404", &dir.path().join("missing")).expect("add");
    let (callback, rx) = Recorder::new();
    failing.set_notify_interface(Some(callback)).expect("register");
    drive_to_failure(&failing, fatal());
    assert_eq!(next_event(&rx), "job_error");
}

/// Spec 3.8 and DESIGN 4: `BG_NOTIFY_DISABLE` suppresses every callback.
#[test]
fn notify_disable_suppresses_callbacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    let (callback, rx) = Recorder::new();
    job.set_notify_interface(Some(callback)).expect("register");
    job.set_notify_flags(BgNotify::JOB_TRANSFERRED | BgNotify::DISABLE).expect("flags");
    drive_to_transferred(&job);
    // A later, enabled modification is the first thing delivered: nothing fired before it.
    job.set_notify_flags(BgNotify::JOB_MODIFICATION).expect("flags");
    assert_eq!(next_event(&rx), "job_modification");
}

/// Spec 1.7: `JobModification` only with its flag; `FileTransferred` when a file finishes with
/// its flag.
#[test]
fn modification_and_file_transferred_fire_only_when_flagged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    let (callback, rx) = Recorder::new();
    job.set_notify_interface(Some(callback)).expect("register");
    job.set_description("not reported: JOB_MODIFICATION is off").expect("set");
    job.set_notify_flags(BgNotify::JOB_TRANSFERRED | BgNotify::FILE_TRANSFERRED).expect("flags");
    drive_to_transferred(&job);
    assert_eq!(next_event(&rx), "file_transferred");
    assert_eq!(next_event(&rx), "job_transferred");
}

/// Spec 1.2 `SetNotifyInterface`: a callback registered after the job was transferred is still
/// called for it.
#[test]
fn late_registration_still_hears_job_transferred() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    drive_to_transferred(&job);
    let (callback, rx) = Recorder::new();
    job.set_notify_interface(Some(callback)).expect("register late");
    assert_eq!(next_event(&rx), "job_transferred");
}

/// Spec 1.7: the typical `JobTransferred` handler calls `Complete`; DESIGN 1: callbacks run with
/// no job lock held, so this works.
#[test]
fn job_transferred_callback_may_complete_the_job() {
    #[derive(Debug)]
    struct AutoComplete;
    impl BackgroundCopyCallback for AutoComplete {
        fn job_transferred(&self, job: &Job) {
            let _ = job.complete();
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    job.set_notify_interface(Some(Arc::new(AutoComplete))).expect("register");
    drive_to_transferred(&job);
    wait_for_state(&job, BgJobState::Acknowledged);
    assert_eq!(std::fs::read(dir.path().join("out0")).expect("completed"), b"payload");
}

// ---------------------------------------------------------------------------------------------
// Complete, resume and the engine (spec 2.1-2.2, 3.5, 3.6, DESIGN 4)
// ---------------------------------------------------------------------------------------------

/// Spec 3.6 (Wine moves with replace-existing): `Complete` replaces a destination that already
/// exists.
#[test]
fn complete_replaces_an_existing_destination() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    let destination = dir.path().join("out0");
    std::fs::write(&destination, b"old contents").expect("existing destination");
    drive_to_transferred(&job);
    assert_eq!(std::fs::read(&destination).expect("still old"), b"old contents");
    assert_eq!(job.complete().expect("complete"), BgSuccess::Ok);
    assert_eq!(std::fs::read(&destination).expect("replaced"), b"payload");
}

/// Spec 3.6: when a rename fails, `Complete` fails, the job stays `Transferred` with the file not
/// completed, and the client can fix the cause and call `Complete` again.
#[test]
fn complete_with_failing_rename_keeps_job_transferred_for_a_retry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    let destination = dir.path().join("out0");
    drive_to_transferred(&job);
    std::fs::create_dir(&destination).expect("a directory in the way");
    std::fs::write(destination.join("inside"), b"x").expect("non-empty");
    let err = job.complete().expect_err("the rename onto a directory fails");
    assert!(hresult::is_failure(err.hresult()), "{err:?}");
    assert_eq!(job.get_state(), BgJobState::Transferred);
    assert!(!job.enum_files()[0].get_progress().completed);
    std::fs::remove_dir_all(&destination).expect("clear the way");
    assert_eq!(job.complete().expect("second complete"), BgSuccess::Ok);
    assert_eq!(std::fs::read(&destination).expect("visible"), b"payload");
}

/// DESIGN 1 (files on disk): resuming a file continues after the bytes already in its temporary
/// file.
#[test]
fn resume_continues_a_file_from_the_bytes_already_transferred() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    job.resume().expect("resume");
    {
        let driver = claim_connected(&job);
        let mut transfer = driver.open_file(0).expect("open");
        transfer.set_size(Some(8)).expect("size");
        transfer.write(b"1234").expect("first half");
        job.suspend().expect("suspend");
    }
    job.resume().expect("resume again");
    let driver = claim_connected(&job);
    let mut transfer = driver.open_file(0).expect("reopen");
    assert_eq!(transfer.offset(), 4);
    assert_eq!(job.get_progress().bytes_transferred, 4);
    transfer.write(b"5678").expect("second half");
    transfer.finish().expect("finish");
    driver.finish().expect("finish job");
    job.complete().expect("complete");
    assert_eq!(std::fs::read(dir.path().join("out0")).expect("visible"), b"12345678");
}

fn engine_paths(dir: &Path) -> (PathBuf, PathBuf) {
    let source = dir.join("source.bin");
    std::fs::write(&source, vec![9u8; 4096]).expect("source");
    (source, dir.join("copy.bin"))
}

/// Waits until `target`, failing on any state outside `allowed`.
fn wait_through(job: &Job, target: BgJobState, allowed: &[BgJobState]) {
    let state =
        job.wait_until(CALLBACK_TIMEOUT, |state| state == target || !allowed.contains(&state));
    assert!(
        allowed.contains(&state) || state == target,
        "unexpected {state:?} waiting for {target:?}"
    );
    assert_eq!(state, target, "stuck in {state:?} waiting for {target:?}");
}

const ACTIVE: [BgJobState; 3] =
    [BgJobState::Queued, BgJobState::Connecting, BgJobState::Transferring];

/// Spec 2.1-2.2 through the engine: after the transfer the sizes and byte counts are exact, every
/// file counts as transferred, and `completed` waits for `Complete`.
#[test]
fn engine_transfer_reports_exact_progress() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (source, copy) = engine_paths(dir.path());
    let manager = Manager::new();
    let job = new_job(&manager);
    job.add_file(source.to_str().expect("utf-8"), &copy).expect("add");
    job.resume().expect("resume");
    wait_through(&job, BgJobState::Transferred, &ACTIVE);
    assert_eq!(
        job.get_progress(),
        BgJobProgress {
            bytes_total: 4096,
            bytes_transferred: 4096,
            files_total: 1,
            files_transferred: 1
        }
    );
    let file = &job.enum_files()[0];
    assert_eq!(
        file.get_progress(),
        BgFileProgress { bytes_total: 4096, bytes_transferred: 4096, completed: false }
    );
    assert!(job.get_times().transfer_completion_time.is_some());
    job.complete().expect("complete");
    assert!(file.get_progress().completed);
    assert_eq!(std::fs::read(&copy).expect("copy"), vec![9u8; 4096]);
}

/// DESIGN 4 through the engine: a local source that does not exist is fatal (`Error`), context
/// `RemoteFile`, the Win32 "file not found" code, tied to the file, protocol "file"; `job_error`
/// fires.
#[test]
fn engine_missing_source_is_fatal_remote_file_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manager = Manager::new();
    let job = new_job(&manager);
    let (callback, rx) = Recorder::new();
    job.set_notify_interface(Some(callback)).expect("register");
    let missing = dir.path().join("missing.bin");
    job.add_file(&format!("file://{}", missing.display()), &dir.path().join("copy")).expect("add");
    job.resume().expect("resume");
    wait_through(&job, BgJobState::Error, &ACTIVE);
    assert_eq!(next_event(&rx), "job_error");
    assert_eq!(job.get_error_count(), 1);
    let error = job.get_error().expect("error information");
    assert_eq!(error.get_error(), (BgErrorContext::RemoteFile, hresult::ERROR_FILE_NOT_FOUND_HR));
    assert_eq!(error.get_file().expect("file").index(), 0);
    assert_eq!(error.get_protocol().expect("protocol"), "file");
}

/// DESIGN 4 through the engine: a destination directory that is gone (removed after `add_file`,
/// which refuses a missing one) is fatal, context `LocalFile`, `ERROR_PATH_NOT_FOUND`.
#[test]
fn engine_missing_destination_directory_is_fatal_local_file_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (source, _) = engine_paths(dir.path());
    let manager = Manager::new();
    let job = new_job(&manager);
    let gone = dir.path().join("gone");
    std::fs::create_dir(&gone).expect("mkdir");
    job.add_file(source.to_str().expect("utf-8"), &gone.join("copy")).expect("add");
    std::fs::remove_dir(&gone).expect("rmdir");
    job.resume().expect("resume");
    wait_through(&job, BgJobState::Error, &ACTIVE);
    let (context, code) = job.get_error().expect("error information").get_error();
    assert_eq!(context, BgErrorContext::LocalFile);
    assert_eq!(code, hresult::ERROR_PATH_NOT_FOUND_HR);
}

/// A transport for the scheme `flaky` that fails transiently `failures` times, then delivers.
#[derive(Debug)]
struct Flaky {
    failures: parking_lot::Mutex<u32>,
}

impl Transport for Flaky {
    fn schemes(&self) -> &[&str] {
        &["flaky"]
    }
    fn protocol(&self) -> &str {
        "flaky"
    }
    fn transfer(
        &self,
        _request: &TransferRequest<'_>,
        sink: &mut dyn TransferSink,
    ) -> std::result::Result<(), TransferError> {
        {
            let mut left = self.failures.lock();
            if *left > 0 {
                *left -= 1;
                return Err(TransferError::transient(
                    hresult::BG_E_CONNECT_FAILURE,
                    BgErrorContext::GeneralTransport,
                    "no route",
                ));
            }
        }
        sink.set_size(Some(5))?;
        sink.write(b"flaky")
    }
}

fn flaky_manager(failures: u32) -> (Manager, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let manager = Manager::builder()
        .clock(clock.clone())
        .transport(Arc::new(Flaky { failures: parking_lot::Mutex::new(failures) }))
        .build();
    (manager, clock)
}

/// Advances `clock` by `step` until the job reaches `target` (the engine measures delays from when
/// it saw the failure, so a step may be needed more than once). The clock moves only once the
/// engine's scheduler has seen the failure (and timed its retry), one step per engine pass.
fn advance_until(
    manager: &Manager,
    job: &Job,
    clock: &ManualClock,
    step: Duration,
    target: BgJobState,
) {
    let start = Instant::now();
    loop {
        let state = job.wait_until(CALLBACK_TIMEOUT, |state| {
            state == target || state == BgJobState::TransientError
        });
        if state == target {
            return;
        }
        assert_eq!(state, BgJobState::TransientError, "stuck in {state:?}");
        assert!(start.elapsed() < CALLBACK_TIMEOUT, "stuck in {state:?}");
        manager.wait_engine_pass();
        clock.advance(step);
    }
}

/// Spec 3.2 T9/T12 and 3.5: a recoverable failure puts the job in `TransientError` (error count
/// + 1, error report available) and the engine retries it once the minimum retry delay passed.
#[test]
fn engine_retries_a_transient_error_after_the_minimum_retry_delay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (manager, clock) = flaky_manager(1);
    let job = new_job(&manager);
    job.add_file("flaky://host/file", &dir.path().join("out")).expect("add");
    job.resume().expect("resume");
    wait_through(&job, BgJobState::TransientError, &ACTIVE);
    assert_eq!(job.get_error_count(), 1);
    let (context, code) = job.get_error().expect("error information").get_error();
    assert_eq!((context, code), (BgErrorContext::GeneralTransport, hresult::BG_E_CONNECT_FAILURE));
    advance_until(&manager, &job, &clock, Duration::from_secs(600), BgJobState::Transferred);
    assert_eq!(job.get_error_count(), 1);
    job.complete().expect("complete");
    assert_eq!(std::fs::read(dir.path().join("out")).expect("visible"), b"flaky");
}

/// Spec 3.2 T13 and 3.5: a job that keeps failing transiently goes to `Error` once the
/// no-progress timeout passes; `job_error` fires then.
#[test]
fn engine_gives_up_after_the_no_progress_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (manager, clock) = flaky_manager(u32::MAX);
    let job = new_job(&manager);
    let (callback, rx) = Recorder::new();
    job.set_notify_interface(Some(callback)).expect("register");
    job.set_minimum_retry_delay(Duration::from_secs(5)).expect("retry delay");
    job.set_no_progress_timeout(Duration::from_secs(60)).expect("timeout");
    job.add_file("flaky://host/file", &dir.path().join("out")).expect("add");
    job.resume().expect("resume");
    advance_until(&manager, &job, &clock, Duration::from_secs(61), BgJobState::Error);
    assert_eq!(next_event(&rx), "job_error");
    let (_, code) = job.get_error().expect("the last error is kept").get_error();
    assert_eq!(code, hresult::BG_E_CONNECT_FAILURE);
    assert!(job.get_error_count() >= 1);
}

/// `BG_FILE_INFO` reference: no wildcards in the remote path or file name, and each URL segment
/// is at most `MAX_PATH` (260) characters; violations are `E_INVALIDARG` (spec 5.2), job unchanged.
#[test]
fn add_file_remote_name_with_wildcard_or_long_segment_is_invalid_arg() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = new_job(&manager());
    let base = dir.path().display().to_string();
    let long_segment = "s".repeat(261);
    let cases = [
        format!("{base}/*.bin"),
        format!("{base}/file?.bin"),
        format!("file://{base}/*.bin"),
        "http://example.com/updates/*.cab".to_owned(),
        format!("http://example.com/{long_segment}/file"),
        format!("file://{base}/{long_segment}"),
    ];
    for (i, remote) in cases.iter().enumerate() {
        let local = dir.path().join(format!("out{i}"));
        assert_eq!(hr(job.add_file(remote, &local)), hresult::E_INVALIDARG, "{remote}");
    }
    assert_eq!(job.get_progress().files_total, 0);
    // A query string is not a wildcard, and a 260-character segment is allowed.
    job.add_file("http://example.com/get?id=7", &dir.path().join("query")).expect("query");
    let segment = "s".repeat(260);
    job.add_file(&format!("http://example.com/{segment}"), &dir.path().join("max"))
        .expect("260-character segment");
}

/// `BG_FILE_INFO` reference: the local name has no wildcards and is at most `MAX_PATH` (260)
/// characters (`E_INVALIDARG`).
#[test]
fn add_file_local_name_with_wildcard_or_over_max_path_is_invalid_arg() {
    let job = new_job(&manager());
    let remote = "http://example.com/a";
    assert_eq!(hr(job.add_file(remote, Path::new("/tmp/*.bin"))), hresult::E_INVALIDARG);
    assert_eq!(hr(job.add_file(remote, Path::new("/tmp/a?.bin"))), hresult::E_INVALIDARG);
    // 261 characters: over `MAX_PATH` on Windows; a name over `NAME_MAX` (255 bytes) on Unix,
    // whose path limit is its `PATH_MAX` instead (tests/jobs/files.rs).
    let long = format!("/tmp/{}", "l".repeat(256));
    assert_eq!(hr(job.add_file(remote, Path::new(&long))), hresult::E_INVALIDARG);
    let max = format!("/tmp/{}", "l".repeat(255)); // 260 characters
    job.add_file(remote, Path::new(&max)).expect("260 characters is allowed");
}

/// Spec 2.3: `Suspend` and `Resume` (state changes) update the modification time.
#[test]
fn state_changes_update_the_modification_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 1);
    let before = job.get_times().modification_time;
    crate::support::wait_for_wall_clock_past(before);
    job.resume().expect("resume");
    let resumed = job.get_times().modification_time;
    assert!(resumed > before);
    crate::support::wait_for_wall_clock_past(resumed);
    job.suspend().expect("suspend");
    assert!(job.get_times().modification_time > resumed);
}

/// Spec 1.7 (`JobError` handler) and 3.3: `Complete` on a job in `Error` keeps the files that were
/// fully transferred (`BG_S_PARTIAL_COMPLETE`).
#[test]
fn complete_from_error_keeps_the_finished_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_with_files(&manager(), dir.path(), 2);
    job.resume().expect("resume");
    let driver = claim_connected(&job);
    transfer_file(&driver, 0, b"first");
    assert_eq!(driver.fail(fatal(), Some(1)).expect("fail"), BgJobState::Error);
    assert_eq!(job.complete().expect("complete"), BgSuccess::PartialComplete);
    assert_eq!(std::fs::read(dir.path().join("out0")).expect("kept"), b"first");
    assert!(!dir.path().join("out1").exists());
}

/// Spec 3.4 through the engine: files go strictly in order and an error on one file blocks the
/// rest of the job.
#[test]
fn engine_error_on_a_file_blocks_the_files_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (source, _) = engine_paths(dir.path());
    let manager = Manager::new();
    let job = new_job(&manager);
    let missing = dir.path().join("missing.bin");
    job.add_file(missing.to_str().expect("utf-8"), &dir.path().join("copy0")).expect("add 0");
    job.add_file(source.to_str().expect("utf-8"), &dir.path().join("copy1")).expect("add 1");
    job.resume().expect("resume");
    wait_through(&job, BgJobState::Error, &ACTIVE);
    assert_eq!(job.get_error().expect("report").get_file().expect("file").index(), 0);
    assert_eq!(job.get_progress().files_transferred, 0);
    assert_eq!(job.enum_files()[1].get_progress().bytes_transferred, 0);
}

/// Spec 3.5 and 3.2 T12: `Resume` in `TransientError` retries at once, without waiting for the
/// minimum retry delay (the clock here never moves).
#[test]
fn engine_resume_retries_a_transient_error_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (manager, _clock) = flaky_manager(1);
    let job = new_job(&manager);
    job.add_file("flaky://host/file", &dir.path().join("out")).expect("add");
    job.resume().expect("resume");
    wait_through(&job, BgJobState::TransientError, &ACTIVE);
    job.resume().expect("resume from TransientError");
    wait_through(&job, BgJobState::Transferred, &ACTIVE);
    assert_eq!(job.get_error_count(), 1);
}
