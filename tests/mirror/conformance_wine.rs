//! Conformance with the expectations of Wine's qmgr tests (`dlls/qmgr/tests/*.c` in
//! wine-mirror/wine). Those tests run against real Windows BITS, so each expectation is observed
//! Windows behaviour. Each test here restates one expectation against bgcopy's public contract and
//! names the Wine test function it comes from.
//!
//! Left out on purpose (no Rust analogue): reference counts returned by `Release`, NULL
//! out-pointers, the `IEnum*::Next/Skip/Reset` cursor (bgcopy's `enum_*` return a `Vec` snapshot),
//! `IBackgroundCopyJob5::SetProperty` (cost flags) and `IBackgroundCopyJobHttpOptions`.
//!
//! Transfers that need the built-in engine use `Manager::new()`; where a state has to be reached
//! deterministically the job is driven by hand with `Manager::builder().without_engine()` and the
//! driver API.

use bgcopy::transport::TransferSink;
use bgcopy::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a job may take to reach a state (Wine waits 30 s too).
const STATE_TIMEOUT: Duration = Duration::from_secs(30);

/// The contents Wine's `makeFile` writes into its two source files.
const CONTENTS_A: &[u8] = b"This is a WINE test file for BITS\n";
const CONTENTS_B: &[u8] = b"This is another WINE test file for BITS\n";

/// The states Wine accepts while a local transfer runs (`test_CompleteLocal`).
const RUNNING_OR_DONE: [BgJobState; 5] = [
    BgJobState::Queued,
    BgJobState::Connecting,
    BgJobState::Transferring,
    BgJobState::Transferred,
    BgJobState::TransientError,
];

fn manager_without_engine() -> Manager {
    Manager::builder().without_engine().build()
}

/// Wine's generic `setup()`: a manager and a download job named "Test".
fn setup(manager: &Manager) -> Job {
    manager.create_job("Test", BgJobType::Download).expect("CreateJob(\"Test\", DOWNLOAD)")
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn text(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Waits until `target`, like Wine's wait loops: every state seen must be in `allowed`, and a
/// job in `TransientError` is resumed at once (as Wine does). Waits on the job's state changes
/// (`Job::wait_until`) where Wine polls.
fn wait_for_state(job: &Job, target: BgJobState, allowed: &[BgJobState]) {
    let start = Instant::now();
    loop {
        let state = job.wait_until(STATE_TIMEOUT, |state| {
            state == target || state == BgJobState::TransientError || !allowed.contains(&state)
        });
        assert!(
            allowed.contains(&state),
            "unexpected state {state:?} while waiting for {target:?}; error: {:?}",
            job.get_error().map(|e| (e.get_error(), e.message().to_owned()))
        );
        if state == target {
            return;
        }
        assert_eq!(
            state,
            BgJobState::TransientError,
            "BITS job timed out in {state:?} waiting for {target:?} (engine not running jobs?)"
        );
        assert!(start.elapsed() < STATE_TIMEOUT, "BITS job keeps failing waiting for {target:?}");
        job.resume().expect("Resume from TRANSIENT_ERROR");
    }
}

/// Drives a queued job to `Transferred` by hand, writing `contents[i]` as file `i`.
fn drive_to_transferred(job: &Job, contents: &[&[u8]]) {
    let driver = job.claim().expect("claim a queued job");
    driver.connected().expect("connected");
    while let Some(file) = driver.next_file() {
        let data = contents[file.index()];
        let mut transfer = driver.open_file(file.index()).expect("open_file");
        transfer.set_size(Some(data.len() as u64)).expect("set_size");
        transfer.write(data).expect("write");
        transfer.finish().expect("finish file");
    }
    driver.finish().expect("finish job");
}

/// The two source files and two destinations of Wine's `job.c`, in a fresh directory.
struct Paths {
    _dir: tempfile::TempDir,
    remote_a: PathBuf,
    remote_b: PathBuf,
    local_a: PathBuf,
    local_b: PathBuf,
}

impl Paths {
    /// Like Wine's `init_paths` (which uses `GetTempFileName`, so all four files exist, empty).
    fn new() -> Paths {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = |name: &str| dir.path().join(name);
        let paths = Paths {
            remote_a: p("qmgrremoteA.tmp"),
            remote_b: p("qmgrremoteB.tmp"),
            local_a: p("qmgrlocalA.tmp"),
            local_b: p("qmgrlocalB.tmp"),
            _dir: dir,
        };
        for path in [&paths.remote_a, &paths.remote_b, &paths.local_a, &paths.local_b] {
            std::fs::write(path, b"").expect("create empty file");
        }
        paths
    }

    /// Like the start of Wine's `test_CompleteLocal`: no destinations, sources with contents.
    fn for_complete_local() -> Paths {
        let paths = Paths::new();
        std::fs::remove_file(&paths.local_a).expect("DeleteFile(localA)");
        std::fs::remove_file(&paths.local_b).expect("DeleteFile(localB)");
        std::fs::write(&paths.remote_a, CONTENTS_A).expect("makeFile(remoteA)");
        std::fs::write(&paths.remote_b, CONTENTS_B).expect("makeFile(remoteB)");
        paths
    }

    /// Wine's `compareFiles` for both pairs, then its `DeleteFile(remote)` checks: the sources
    /// are still there after the transfer.
    fn assert_copied(&self) {
        for (remote, local) in [(&self.remote_a, &self.local_a), (&self.remote_b, &self.local_b)] {
            let source = std::fs::read(remote).expect("the source still exists");
            let copy = std::fs::read(local).expect("the destination exists after Complete");
            assert_eq!(copy.len(), source.len(), "files differ in length");
            assert_eq!(copy, source, "files differ in contents");
            std::fs::remove_file(remote).expect("DeleteFile(remote) succeeds");
        }
    }
}

// The callback that reports each call on a channel (tests/support, shared).
use crate::support::Recorder;

// ---------------------------------------------------------------------------------------------
// qmgr.c
// ---------------------------------------------------------------------------------------------

/// Wine `qmgr.c` `test_CreateInstance`: creating the manager succeeds (the service runs).
#[test]
fn qmgr_create_instance_succeeds_with_engine_running() {
    let manager = Manager::new();
    assert!(manager.has_engine());
    assert!(manager.enum_jobs().is_empty());
}

/// Wine `qmgr.c` `test_CreateJob`: `CreateJob("Test", BG_JOB_TYPE_DOWNLOAD)` is `S_OK`.
#[test]
fn qmgr_create_job_download_succeeds() {
    let manager = Manager::new();
    let job = manager.create_job("Test", BgJobType::Download).expect("CreateJob is S_OK");
    assert_eq!(job.get_type(), BgJobType::Download);
    job.cancel().expect("teardown");
}

/// Wine `qmgr.c` `test_EnumJobs`: after `CreateJob`, `EnumJobs(0)` is `S_OK` (and lists the job).
#[test]
fn qmgr_enum_jobs_succeeds_after_create_job() {
    let manager = Manager::new();
    let job = setup(&manager);
    let jobs = manager.enum_jobs();
    assert!(jobs.iter().any(|j| j.get_id() == job.get_id()));
    job.cancel().expect("teardown");
}

/// Wine `qmgr.c` `test_globalness`: a job created by another client (a child process there)
/// shows up, by its display name, in `EnumJobs` of this client. bgcopy's analogue of "another
/// client of the same service" is another handle on the same manager used from another thread.
#[test]
fn qmgr_globalness_job_created_by_another_client_is_enumerated() {
    let manager = manager_without_engine();
    let other = manager.clone();
    let secret = format!("test_{}", std::process::id());
    let name = secret.clone();
    std::thread::spawn(move || {
        other.create_job(&name, BgJobType::Download).expect("CreateJob in the other client");
    })
    .join()
    .expect("child");
    let found = manager.enum_jobs().iter().any(|job| job.get_display_name() == secret);
    assert!(found, "adding a job in another client failed");
}

/// Wine `qmgr.c` `test_globalness`, the part where bgcopy deliberately differs: on Windows every
/// `CoCreateInstance` reaches the one BITS service, so two manager objects share the queue. DESIGN
/// section 1 makes two `Manager`s independent; this test pins that choice so a change is noticed.
#[test]
fn qmgr_globalness_separate_managers_are_independent_by_design() {
    let first = manager_without_engine();
    let second = manager_without_engine();
    let job = first.create_job("only in the first", BgJobType::Download).expect("create");
    assert!(second.enum_jobs().is_empty());
    assert_eq!(second.get_job(job.get_id()).unwrap_err().hresult(), hresult::BG_E_NOT_FOUND);
}

// ---------------------------------------------------------------------------------------------
// enum_jobs.c (setup: create job A, enumerate, create job B, enumerate again)
// ---------------------------------------------------------------------------------------------

struct EnumJobsSetup {
    _manager: Manager,
    job_a: Job,
    job_b: Job,
    enum_a: Vec<Job>,
    enum_b: Vec<Job>,
}

fn enum_jobs_setup() -> EnumJobsSetup {
    let manager = manager_without_engine();
    let job_a = manager.create_job("TestA", BgJobType::Download).expect("CreateJob(TestA)");
    let enum_a = manager.enum_jobs();
    let job_b = manager.create_job("TestB", BgJobType::Download).expect("CreateJob(TestB)");
    let enum_b = manager.enum_jobs();
    EnumJobsSetup { _manager: manager, job_a, job_b, enum_a, enum_b }
}

/// Wine `enum_jobs.c` `test_GetCount`: an enumeration taken after one more job was created counts
/// one job more (each enumeration is a snapshot of the moment it was taken).
#[test]
fn enum_jobs_get_count_grows_by_one_for_a_job_created_between_snapshots() {
    let s = enum_jobs_setup();
    assert_eq!(s.enum_b.len(), s.enum_a.len() + 1);
    assert!(!s.enum_a.iter().any(|j| j.get_id() == s.job_b.get_id()));
}

/// Wine `enum_jobs.c` `test_Next_walkListNull`: fetching the jobs one at a time gives exactly
/// `GetCount` jobs and then reports the end (`S_FALSE`).
#[test]
fn enum_jobs_next_walk_list_null_gives_count_jobs_then_ends() {
    let s = enum_jobs_setup();
    let count = s.enum_b.len();
    let mut walk = s.enum_b.iter();
    for _ in 0..count {
        assert!(walk.next().is_some(), "Next is S_OK for each counted job");
    }
    assert!(walk.next().is_none(), "Next past the end is S_FALSE");
}

/// Wine `enum_jobs.c` `test_Next_walkList_1`: each job fetched one at a time is a real job
/// (fetched == 1, a usable handle).
#[test]
fn enum_jobs_next_walk_list_1_each_fetched_job_is_usable() {
    let s = enum_jobs_setup();
    for job in &s.enum_b {
        assert_eq!(job.get_state(), BgJobState::Suspended);
        assert!(["TestA", "TestB"].contains(&job.get_display_name().as_str()));
    }
}

/// Wine `enum_jobs.c` `test_Next_walkList_2`: fetching `GetCount` jobs at once returns that many
/// non-NULL jobs: here exactly jobs A and B.
#[test]
fn enum_jobs_next_walk_list_2_returns_every_job_at_once() {
    let s = enum_jobs_setup();
    let mut ids: Vec<JobId> = s.enum_b.iter().map(|j| j.get_id()).collect();
    ids.sort();
    let mut expected = vec![s.job_a.get_id(), s.job_b.get_id()];
    expected.sort();
    assert_eq!(ids, expected);
}

// ---------------------------------------------------------------------------------------------
// enum_files.c (setup: a job with two files added as file:// URLs of files that do not exist)
// ---------------------------------------------------------------------------------------------

struct EnumFilesSetup {
    dir: tempfile::TempDir,
    _manager: Manager,
    job: Job,
    files: Vec<JobFile>,
}

/// Wine's `addFileHelper`: remote = `file://` URL of `<dir>/remote*`, local = `<dir>/local*`.
fn add_file_helper(job: &Job, dir: &Path, local: &str, remote: &str) -> Result<()> {
    job.add_file(&file_url(&dir.join(remote)), &dir.join(local))
}

fn enum_files_setup() -> EnumFilesSetup {
    let dir = tempfile::tempdir().expect("tempdir");
    let manager = manager_without_engine();
    let job = setup(&manager);
    add_file_helper(&job, dir.path(), "localA", "remoteA").expect("AddFile(remoteA)");
    add_file_helper(&job, dir.path(), "localB", "remoteB").expect("AddFile(remoteB)");
    let files = job.enum_files();
    EnumFilesSetup { dir, _manager: manager, job, files }
}

/// Wine `enum_files.c` `test_create_manager` (and `file.c`): `AddFile` with a `file://` URL is
/// accepted even though the remote file does not exist yet (it is only read when transferring).
#[test]
fn enum_files_add_file_with_file_url_of_missing_source_succeeds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manager = manager_without_engine();
    let job = setup(&manager);
    assert!(!dir.path().join("remoteA").exists());
    add_file_helper(&job, dir.path(), "localA", "remoteA").expect("AddFile is S_OK");
    assert_eq!(job.get_progress().files_total, 1);
}

/// Wine `enum_files.c` `test_GetCount`: the file enumeration counts the two files added.
#[test]
fn enum_files_get_count_is_number_of_files_added() {
    let s = enum_files_setup();
    assert_eq!(s.files.len(), 2);
}

/// Wine `enum_files.c` `test_Next_walkListNull`: fetching one at a time gives the two files and
/// then reports the end.
#[test]
fn enum_files_next_walk_list_null_gives_count_files_then_ends() {
    let s = enum_files_setup();
    let mut walk = s.files.iter();
    assert!(walk.next().is_some());
    assert!(walk.next().is_some());
    assert!(walk.next().is_none(), "Next past the end is S_FALSE");
}

/// Wine `enum_files.c` `test_Next_walkList_1`: each file fetched one at a time is a usable file,
/// here in the order the files were added.
#[test]
fn enum_files_next_walk_list_1_each_fetched_file_is_usable_in_order_added() {
    let s = enum_files_setup();
    let locals: Vec<PathBuf> = s.files.iter().map(|f| f.get_local_name()).collect();
    assert_eq!(locals, vec![s.dir.path().join("localA"), s.dir.path().join("localB")]);
    let remotes: Vec<String> = s.files.iter().map(|f| f.get_remote_name()).collect();
    assert_eq!(
        remotes,
        vec![file_url(&s.dir.path().join("remoteA")), file_url(&s.dir.path().join("remoteB"))]
    );
}

/// Wine `enum_files.c` `test_Next_walkList_2`: fetching `GetCount` files at once gives that many
/// files, none missing.
#[test]
fn enum_files_next_walk_list_2_returns_every_file_at_once() {
    let s = enum_files_setup();
    let again = s.job.enum_files();
    assert_eq!(again.len(), s.job.get_progress().files_total as usize);
    for (a, b) in s.files.iter().zip(&again) {
        assert_eq!(a.get_local_name(), b.get_local_name());
    }
}

// ---------------------------------------------------------------------------------------------
// file.c (setup: a job with one file added through addFileHelper, fetched with EnumFiles/Next)
// ---------------------------------------------------------------------------------------------

struct FileSetup {
    _dir: tempfile::TempDir,
    _manager: Manager,
    _job: Job,
    file: JobFile,
    remote_url: String,
    local_file: PathBuf,
}

fn file_setup() -> FileSetup {
    let dir = tempfile::tempdir().expect("tempdir");
    let manager = manager_without_engine();
    let job = setup(&manager);
    add_file_helper(&job, dir.path(), "local", "remote").expect("AddFile");
    let file = job.enum_files().into_iter().next().expect("Next gives the file");
    let remote_url = file_url(&dir.path().join("remote"));
    let local_file = dir.path().join("local");
    FileSetup { _dir: dir, _manager: manager, _job: job, file, remote_url, local_file }
}

/// Wine `file.c` `test_GetRemoteName`: the remote name is the URL exactly as added.
#[test]
fn file_get_remote_name_is_url_as_added() {
    let s = file_setup();
    assert_eq!(s.file.get_remote_name(), s.remote_url);
}

/// Wine `file.c` `test_GetLocalName`: the local name is the path exactly as added.
#[test]
fn file_get_local_name_is_path_as_added() {
    let s = file_setup();
    assert_eq!(s.file.get_local_name(), s.local_file);
}

/// Wine `file.c` `test_GetProgress_PreTransfer`: before any transfer a file reports
/// `BytesTotal == BG_SIZE_UNKNOWN`, `BytesTransferred == 0`, `Completed == FALSE`.
#[test]
fn file_get_progress_pre_transfer_is_size_unknown_zero_not_completed() {
    let s = file_setup();
    let progress = s.file.get_progress();
    assert_eq!(progress.bytes_total, BG_SIZE_UNKNOWN);
    assert_eq!(progress.bytes_transferred, 0);
    assert!(!progress.completed);
}

// ---------------------------------------------------------------------------------------------
// job.c
// ---------------------------------------------------------------------------------------------

/// Wine `job.c` `test_GetId`: `GetId` gives the id `CreateJob` returned (here: the id under which
/// the manager finds the same job).
#[test]
fn job_get_id_is_the_id_of_the_created_job() {
    let manager = manager_without_engine();
    let job = setup(&manager);
    let id = job.get_id();
    assert_eq!(job.get_id(), id, "stable");
    let found = manager.get_job(id).expect("GetJob(id)");
    assert_eq!(found.get_id(), id);
    assert_eq!(found.get_display_name(), "Test");
}

/// Wine `job.c` `test_GetType`: the type is the one given to `CreateJob` (download).
#[test]
fn job_get_type_is_download() {
    let job = setup(&manager_without_engine());
    assert_eq!(job.get_type(), BgJobType::Download);
}

/// Wine `job.c` `test_GetName`: the display name is the one given to `CreateJob`.
#[test]
fn job_get_name_is_display_name_given_to_create_job() {
    let job = setup(&manager_without_engine());
    assert_eq!(job.get_display_name(), "Test");
}

/// Wine `job.c` `test_AddFile`: adding two files (plain absolute paths as remote names, to local
/// names that already exist, as `GetTempFileName` creates them) is `S_OK` both times.
#[test]
fn job_add_file_two_plain_paths_to_existing_local_files_succeed() {
    let paths = Paths::new();
    let job = setup(&manager_without_engine());
    job.add_file(text(&paths.remote_a), &paths.local_a).expect("first AddFile is S_OK");
    job.add_file(text(&paths.remote_b), &paths.local_b).expect("second AddFile is S_OK");
    assert_eq!(job.get_progress().files_total, 2);
    job.cancel().expect("teardown");
    assert!(paths.local_a.exists() && paths.local_b.exists(), "cancel leaves existing files");
}

/// Wine `job.c` `test_AddFileSet`: adding a set of two files is `S_OK`.
#[test]
fn job_add_file_set_two_files_succeeds() {
    let paths = Paths::new();
    let job = setup(&manager_without_engine());
    let files = [
        BgFileInfo::new(text(&paths.remote_a), &paths.local_a),
        BgFileInfo::new(text(&paths.remote_b), &paths.local_b),
    ];
    job.add_file_set(&files).expect("AddFileSet is S_OK");
    assert_eq!(job.get_progress().files_total, 2);
}

/// Wine `job.c` `test_EnumFiles`: after `AddFile`, `EnumFiles` is `S_OK`.
#[test]
fn job_enum_files_succeeds_after_add_file() {
    let paths = Paths::new();
    let job = setup(&manager_without_engine());
    job.add_file(text(&paths.remote_a), &paths.local_a).expect("AddFile is S_OK");
    let files = job.enum_files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].get_local_name(), paths.local_a);
}

/// Wine `job.c` `test_GetProgress_preTransfer`: a new job reports all four counters as zero
/// (`BytesTotal` is 0, not `BG_SIZE_UNKNOWN`, for a job without files).
#[test]
fn job_get_progress_pre_transfer_is_all_zero() {
    let job = setup(&manager_without_engine());
    let progress = job.get_progress();
    assert_eq!(progress.bytes_total, 0);
    assert_eq!(progress.bytes_transferred, 0);
    assert_eq!(progress.files_total, 0);
    assert_eq!(progress.files_transferred, 0);
}

/// Wine `job.c` `test_GetState`: a new job is `BG_JOB_STATE_SUSPENDED`.
#[test]
fn job_get_state_is_suspended_after_create() {
    let job = setup(&manager_without_engine());
    assert_eq!(job.get_state(), BgJobState::Suspended);
}

/// Wine `job.c` `test_ResumeEmpty`: `Resume` on a job without files is `BG_E_EMPTY` and the job
/// stays `SUSPENDED`.
#[test]
fn job_resume_empty_is_bg_e_empty_and_stays_suspended() {
    let job = setup(&manager_without_engine());
    let err = job.resume().unwrap_err();
    assert_eq!(err.hresult(), hresult::BG_E_EMPTY);
    assert!(matches!(err, BgError::Empty));
    assert_eq!(job.get_state(), BgJobState::Suspended);
}

/// Wine `job.c` `test_CompleteLocal`: two local files (plain paths) transfer through the service:
/// `Resume` is `S_OK`, the job passes only through QUEUED/CONNECTING/TRANSFERRING/
/// (TRANSIENT_ERROR)/TRANSFERRED and is TRANSFERRED within 30 s, `Complete` is `S_OK`, the job is
/// ACKNOWLEDGED, the copies equal the sources, and the sources are left in place.
#[test]
fn job_complete_local_plain_paths_transfer_and_acknowledge() {
    let paths = Paths::for_complete_local();
    let manager = Manager::new();
    let job = setup(&manager);
    job.add_file(text(&paths.remote_a), &paths.local_a).expect("AddFile(A)");
    job.add_file(text(&paths.remote_b), &paths.local_b).expect("AddFile(B)");
    job.resume().expect("Resume is S_OK");
    wait_for_state(&job, BgJobState::Transferred, &RUNNING_OR_DONE);
    assert_eq!(job.complete().expect("Complete is S_OK"), BgSuccess::Ok);
    assert_eq!(job.get_state(), BgJobState::Acknowledged);
    paths.assert_copied();
}

/// Wine `job.c` `test_CompleteLocalURL`: as `test_CompleteLocal`, with the remote names written
/// as `file://` followed by the path.
#[test]
fn job_complete_local_url_file_urls_transfer_and_acknowledge() {
    let paths = Paths::for_complete_local();
    let manager = Manager::new();
    let job = setup(&manager);
    job.add_file(&file_url(&paths.remote_a), &paths.local_a).expect("AddFile(file://A)");
    job.add_file(&file_url(&paths.remote_b), &paths.local_b).expect("AddFile(file://B)");
    job.resume().expect("Resume is S_OK");
    wait_for_state(&job, BgJobState::Transferred, &RUNNING_OR_DONE);
    assert_eq!(job.complete().expect("Complete is S_OK"), BgSuccess::Ok);
    assert_eq!(job.get_state(), BgJobState::Acknowledged);
    paths.assert_copied();
}

/// Wine `job.c` `test_CompleteLocal`, with the transfer done by hand through the driver API
/// instead of the engine: `Complete` after TRANSFERRED is `S_OK` (not a partial complete), the job
/// is ACKNOWLEDGED, and only now do the destinations appear, equal to the sources.
#[test]
fn job_complete_local_driven_by_hand_makes_files_visible_on_complete() {
    let paths = Paths::for_complete_local();
    let job = setup(&manager_without_engine());
    job.add_file(text(&paths.remote_a), &paths.local_a).expect("AddFile(A)");
    job.add_file(&file_url(&paths.remote_b), &paths.local_b).expect("AddFile(file://B)");
    job.resume().expect("Resume is S_OK");
    assert_eq!(job.get_state(), BgJobState::Queued);
    drive_to_transferred(&job, &[CONTENTS_A, CONTENTS_B]);
    assert_eq!(job.get_state(), BgJobState::Transferred);
    assert!(!paths.local_a.exists() && !paths.local_b.exists(), "not visible before Complete");
    assert_eq!(job.complete().expect("Complete is S_OK"), BgSuccess::Ok);
    assert_eq!(job.get_state(), BgJobState::Acknowledged);
    paths.assert_copied();
}

/// Wine `job.c` `test_NotifyFlags`: the default notify flags are
/// `BG_NOTIFY_JOB_ERROR | BG_NOTIFY_JOB_TRANSFERRED` (0x3).
#[test]
fn job_notify_flags_default_is_job_error_or_job_transferred() {
    let job = setup(&manager_without_engine());
    let flags = job.get_notify_flags();
    assert_eq!(flags, BgNotify::JOB_ERROR | BgNotify::JOB_TRANSFERRED);
    assert_eq!(flags.bits(), 0x3);
}

/// Wine `job.c` `test_NotifyInterface`: a new job has no notify interface (NULL).
#[test]
fn job_notify_interface_default_is_none() {
    let job = setup(&manager_without_engine());
    assert!(job.get_notify_interface().is_none());
}

/// Wine `job.c` `test_Cancel`: a new job is not CANCELLED; `Cancel` is `S_OK`; the job then is
/// CANCELLED; a second `Cancel` is `BG_E_INVALID_STATE`.
#[test]
fn job_cancel_cancels_once_then_is_invalid_state() {
    let job = setup(&manager_without_engine());
    assert_ne!(job.get_state(), BgJobState::Cancelled);
    assert_eq!(job.cancel().expect("Cancel is S_OK"), BgSuccess::Ok);
    assert_eq!(job.get_state(), BgJobState::Cancelled);
    let err = job.cancel().unwrap_err();
    assert_eq!(err.hresult(), hresult::BG_E_INVALID_STATE);
}

/// Wine `job.c` `test_HttpOptions`, first part: registering a callback is `S_OK`, setting every
/// notify flag including `BG_NOTIFY_DISABLE` (0x1F) is `S_OK`, and adding an `http://` file is
/// `S_OK`.
#[test]
fn job_http_options_set_notify_interface_all_flags_and_add_http_file_succeed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = setup(&manager_without_engine());
    let (recorder, _rx) = Recorder::new();
    job.set_notify_interface(Some(recorder)).expect("SetNotifyInterface is S_OK");
    let all = BgNotify::JOB_TRANSFERRED
        | BgNotify::JOB_ERROR
        | BgNotify::DISABLE
        | BgNotify::JOB_MODIFICATION
        | BgNotify::FILE_TRANSFERRED;
    assert_eq!(all.bits(), 0x1F);
    job.set_notify_flags(all).expect("SetNotifyFlags(0x1F) is S_OK");
    assert_eq!(job.get_notify_flags(), all);
    assert!(job.get_notify_interface().is_some());
    job.add_file("http://test.winehq.org/", &dir.path().join("localA")).expect("AddFile(http)");
}

/// Sets up `test_HttpOptions` and moves the job to TRANSFERRED by hand (no network).
fn http_options_transferred(dir: &Path) -> Job {
    let job = setup(&manager_without_engine());
    let (recorder, _rx) = Recorder::new();
    job.set_notify_interface(Some(recorder)).expect("SetNotifyInterface");
    job.set_notify_flags(BgNotify::all()).expect("SetNotifyFlags(0x1F)");
    job.add_file("http://test.winehq.org/", &dir.join("localA")).expect("AddFile(http)");
    job.resume().expect("Resume is S_OK");
    assert!(RUNNING_OR_DONE.contains(&job.get_state()));
    drive_to_transferred(&job, &[b"<html>wine</html>"]);
    assert_eq!(job.get_state(), BgJobState::Transferred);
    job
}

/// Wine `job.c` `test_HttpOptions`: after a transfer that went through without an error,
/// `GetError` is `BG_E_ERROR_INFORMATION_UNAVAILABLE`.
#[test]
fn job_http_options_get_error_after_clean_transfer_is_information_unavailable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = http_options_transferred(dir.path());
    let err = job.get_error().unwrap_err();
    assert_eq!(err.hresult(), hresult::BG_E_ERROR_INFORMATION_UNAVAILABLE);
}

/// Wine `job.c` `test_HttpOptions`: `Complete` on the TRANSFERRED job is `S_OK` and the job is
/// ACKNOWLEDGED; a second `Complete` is `BG_E_INVALID_STATE`.
#[test]
fn job_http_options_complete_acknowledges_then_second_complete_is_invalid_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = http_options_transferred(dir.path());
    assert_eq!(job.complete().expect("Complete is S_OK"), BgSuccess::Ok);
    assert_eq!(job.get_state(), BgJobState::Acknowledged);
    assert!(dir.path().join("localA").exists());
    let err = job.complete().unwrap_err();
    assert_eq!(err.hresult(), hresult::BG_E_INVALID_STATE);
}

/// Wine `job.c` `test_HttpOptions`: after `Complete`, `SetNotifyInterface(NULL)` is
/// `BG_E_INVALID_STATE`.
#[test]
fn job_http_options_set_notify_interface_after_complete_is_invalid_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = http_options_transferred(dir.path());
    job.complete().expect("Complete");
    let err = job.set_notify_interface(None).unwrap_err();
    assert_eq!(err.hresult(), hresult::BG_E_INVALID_STATE);
}

/// Wine `file.c`/`enum_files.c` `addFileHelper` builds the remote name with `UrlCreateFromPathW`
/// and then unescapes it (`UrlUnescapeW`), so a directory with a space gives a `file://` URL with a
/// raw space, which Windows accepts and transfers.
#[test]
fn file_add_file_helper_unescaped_file_url_with_space_transfers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spaced = dir.path().join("dir with space");
    std::fs::create_dir(&spaced).expect("mkdir");
    std::fs::write(spaced.join("remote"), CONTENTS_A).expect("source");
    let manager = Manager::new();
    let job = setup(&manager);
    add_file_helper(&job, &spaced, "local", "remote").expect("AddFile is S_OK");
    assert_eq!(job.enum_files()[0].get_remote_name(), file_url(&spaced.join("remote")));
    job.resume().expect("Resume is S_OK");
    wait_for_state(&job, BgJobState::Transferred, &RUNNING_OR_DONE);
    assert_eq!(job.complete().expect("Complete is S_OK"), BgSuccess::Ok);
    assert_eq!(std::fs::read(spaced.join("local")).expect("copy"), CONTENTS_A);
}
