//! Adding files and creating jobs (spec sections 1.1, 1.2, 5; DESIGN section 4): validation of
//! remote and local names, limits, all-or-nothing file sets, order, and the initial progress.
//! Every refused call leaves the job exactly as it was.

use crate::support;

use bgcopy::transport::TransferSink;
use bgcopy::*;
use std::path::{Path, PathBuf};
use support::*;

/// What a job looks like from outside; equal before and after a refused call.
#[derive(Debug, PartialEq)]
struct Observed {
    progress: BgJobProgress,
    files: Vec<(String, PathBuf, BgFileProgress)>,
    times: BgJobTimes,
    state: BgJobState,
}

fn observe(job: &Job) -> Observed {
    Observed {
        progress: job.get_progress(),
        files: job
            .enum_files()
            .iter()
            .map(|f| (f.get_remote_name(), f.get_local_name(), f.get_progress()))
            .collect(),
        times: job.get_times(),
        state: job.get_state(),
    }
}

/// A job with one file already in it, and the clock moved past its modification time.
fn job_with_one_file(fx: &Fixture) -> Job {
    let job = fx.job_with_files(1);
    modification_time_settled(&job);
    job
}

/// Asserts that adding `remote` → `local` fails with `E_INVALIDARG` and changes nothing, both
/// through `add_file` and inside a set with a valid file before it.
fn assert_rejected(fx: &Fixture, remote: &str, local: &Path) {
    let job = job_with_one_file(fx);
    let before = observe(&job);
    let err = job.add_file(remote, local).expect_err(&format!("{remote:?} -> {local:?}"));
    assert!(matches!(err, BgError::InvalidArgument(_)), "{remote:?} -> {local:?}: {err:?}");
    assert_eq!(err.hresult(), hresult::E_INVALIDARG);
    assert_eq!(observe(&job), before, "{remote:?} -> {local:?}");
    let set = [BgFileInfo::new(remote_ok(), fx.path("fine.bin")), BgFileInfo::new(remote, local)];
    let err = job.add_file_set(&set).expect_err("in a set");
    assert_eq!(err.hresult(), hresult::E_INVALIDARG);
    assert_eq!(observe(&job), before, "set with {remote:?} -> {local:?}");
}

fn remote_ok() -> String {
    remote(100)
}

/// A URL of exactly `len` characters, made of short path segments.
fn url_of_len(len: usize) -> String {
    let mut url = String::from("https://example.com");
    while url.len() < len {
        let room = len - url.len();
        if room == 1 {
            url.push('x');
            break;
        }
        let segment = room.min(50);
        url.push('/');
        url.push_str(&"s".repeat(segment - 1));
    }
    assert_eq!(url.len(), len);
    url
}

/// An absolute path of exactly `len` characters inside `dir`.
#[cfg(windows)]
fn path_of_len(dir: &Path, len: usize) -> PathBuf {
    let base = dir.join("p");
    let used = base.to_str().unwrap().len();
    assert!(used < len, "temporary directory path too long for the test");
    dir.join(format!("p{}", "x".repeat(len - used)))
}

// ---- remote names -------------------------------------------------------------------------

#[test]
fn empty_remote_name_is_invalid_argument() {
    let fx = Fixture::new();
    assert_rejected(&fx, "", &fx.local(1));
}

#[test]
fn remote_name_longer_than_2200_characters_is_invalid_argument() {
    let fx = Fixture::new();
    assert_rejected(&fx, &url_of_len(2201), &fx.local(1));
    let job = fx.job();
    job.add_file(&url_of_len(2200), &fx.local(1)).expect("2200 characters are allowed");
}

#[test]
fn unsupported_or_relative_remote_names_are_invalid_argument() {
    let fx = Fixture::new();
    for remote in [
        "ftp://example.com/a.bin",
        "gopher://example.com/a",
        "mailto:someone@example.com",
        "relative/path.bin",
        "a.bin",
        "example.com/a.bin",
        "http://",
    ] {
        assert_rejected(&fx, remote, &fx.local(1));
    }
}

#[test]
fn http_https_file_urls_and_absolute_paths_are_accepted() {
    let fx = Fixture::new();
    let job = fx.job();
    let mut remotes = vec![
        "http://example.com/a.bin".to_owned(),
        "https://example.com/b.bin?x=1".to_owned(),
        "HTTPS://EXAMPLE.COM/c.bin".to_owned(),
        "http://127.0.0.1:8080/d".to_owned(),
    ];
    let source = fx.path("source.bin");
    remotes.push(format!("file://{}", source.display()));
    remotes.push(source.display().to_string());
    for (index, remote) in remotes.iter().enumerate() {
        job.add_file(remote, &fx.local(index)).unwrap_or_else(|e| panic!("{remote}: {e}"));
    }
    let stored: Vec<String> = job.enum_files().iter().map(|f| f.get_remote_name()).collect();
    assert_eq!(stored, remotes, "remote names are stored as given");
}

#[test]
fn nul_characters_are_invalid_argument() {
    let fx = Fixture::new();
    assert_rejected(&fx, "https://example.com/a\0b", &fx.local(1));
    assert_rejected(&fx, &remote(1), &fx.path("a\0b.bin"));
}

// ---- local names --------------------------------------------------------------------------

#[test]
fn relative_local_names_are_invalid_argument() {
    let fx = Fixture::new();
    for local in ["a.bin", "./a.bin", "../a.bin", "dir/a.bin", ""] {
        assert_rejected(&fx, &remote(1), Path::new(local));
    }
}

/// Windows keeps BITS's `MAX_PATH`: 260 characters, no more.
#[cfg(windows)]
#[test]
fn local_name_longer_than_260_characters_is_invalid_argument_on_windows() {
    let fx = Fixture::new();
    assert_rejected(&fx, &remote(1), &path_of_len(fx.dir.path(), 261));
    let job = fx.job();
    job.add_file(&remote(1), &path_of_len(fx.dir.path(), 260)).expect("260 characters are allowed");
}

/// `len` bytes of path under `dir`, in names of at most 200 bytes (each within `NAME_MAX`).
#[cfg(unix)]
fn deep_path_of_len(dir: &Path, len: usize) -> PathBuf {
    let mut path = dir.to_path_buf();
    loop {
        let left = len - path.as_os_str().len();
        assert!(left >= 2, "temporary directory path too long for the test");
        if left <= 201 {
            return path.join("f".repeat(left - 1));
        }
        path.push("d".repeat(197));
    }
}

/// Unix takes the platform's `PATH_MAX`, not Windows's 260: a 300-character local path is
/// accepted and copied end to end.
#[cfg(unix)]
#[test]
fn a_300_character_local_path_is_accepted_and_copied_on_unix() {
    let fx = Fixture::with_manager(Manager::new());
    let source = fx.path("source.bin");
    std::fs::write(&source, content(1)).unwrap();
    let local = deep_path_of_len(fx.dir.path(), 300);
    assert_eq!(local.as_os_str().len(), 300);
    std::fs::create_dir_all(local.parent().unwrap()).unwrap();
    let job = fx.job();
    job.add_file(source.to_str().unwrap(), &local).expect("300 characters are allowed on Unix");
    job.resume().unwrap();
    assert_eq!(
        job.wait(WAIT),
        BgJobState::Transferred,
        "{:?}",
        job.get_error().map(|e| e.message().to_owned())
    );
    job.complete().unwrap();
    assert_eq!(std::fs::read(&local).unwrap(), content(1));
}

/// Past the platform's `PATH_MAX` (4096 bytes with its NUL on Linux, 1024 on macOS), or with
/// one name past `NAME_MAX` (255 bytes), a local path is `E_INVALIDARG`.
#[cfg(unix)]
#[test]
fn a_local_path_over_path_max_or_with_a_name_over_255_bytes_is_invalid_argument_on_unix() {
    let fx = Fixture::new();
    let path_max = if cfg!(any(target_os = "linux", target_os = "android")) { 4096 } else { 1024 };
    for len in [path_max, path_max + 1, 4097, 5000] {
        assert_rejected(&fx, &remote(1), &deep_path_of_len(fx.dir.path(), len));
    }
    assert_rejected(&fx, &remote(1), &fx.path(&"n".repeat(256)));
    let job = fx.job();
    let longest = deep_path_of_len(fx.dir.path(), path_max - 1);
    std::fs::create_dir_all(longest.parent().unwrap()).unwrap();
    job.add_file(&remote(1), &longest).expect("PATH_MAX less its NUL is allowed");
    job.add_file(&remote(2), &fx.path(&"n".repeat(255))).expect("a 255-byte name is allowed");
}

#[test]
fn directory_like_local_names_are_invalid_argument() {
    let fx = Fixture::new();
    let dir = fx.dir.path().display().to_string();
    for local in [
        format!("{dir}/"),
        format!("{dir}/sub/"),
        format!("{dir}/."),
        format!("{dir}/sub/.."),
        "/".to_owned(),
    ] {
        assert_rejected(&fx, &remote(1), Path::new(&local));
    }
}

#[test]
fn a_destination_directory_that_does_not_exist_is_path_not_found_naming_the_path() {
    let fx = Fixture::new();
    let job = job_with_one_file(&fx);
    let before = observe(&job);
    let local = fx.path("missing").join("a.bin");
    let err = job.add_file(&remote(1), &local).unwrap_err();
    assert_eq!(err.hresult(), 0x8007_0003, "HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND): {err:?}");
    assert!(matches!(&err, BgError::PathNotFound { path } if *path == local), "{err:?}");
    assert!(err.to_string().contains(local.to_str().unwrap()), "names the path: {err}");
    assert_eq!(observe(&job), before);
    // All or nothing: a set with a fine file first adds neither.
    let set = [BgFileInfo::new(remote(2), fx.path("fine.bin")), BgFileInfo::new(remote(3), &local)];
    assert_eq!(job.add_file_set(&set).unwrap_err().hresult(), 0x8007_0003);
    assert_eq!(observe(&job), before);
    // A regular file where the directory should be is no directory either.
    std::fs::write(fx.path("plain"), b"x").unwrap();
    let under_a_file = fx.path("plain").join("a.bin");
    assert_eq!(job.add_file(&remote(4), &under_a_file).unwrap_err().hresult(), 0x8007_0003);
    // Every other check comes first: a final job says so, whatever the directory.
    job.cancel().unwrap();
    let err = job.add_file(&remote(5), &local).unwrap_err();
    assert_eq!(err.hresult(), hresult::BG_E_INVALID_STATE);
}

#[test]
fn a_destination_directory_removed_after_add_file_fails_the_transfer_naming_the_path() {
    let fx = Fixture::new();
    let dir = fx.path("gone");
    std::fs::create_dir(&dir).unwrap();
    let local = dir.join("a.bin");
    let job = fx.job();
    job.add_file(&remote(1), &local).unwrap();
    std::fs::remove_dir(&dir).unwrap();
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let err = driver.open_file(0).unwrap_err();
    assert_eq!(err.hresult(), 0x8007_0003, "{err:?}");
    assert_eq!(err.context(), BgErrorContext::LocalFile);
    assert!(!err.is_transient());
    assert!(err.to_string().contains(local.to_str().unwrap()), "names the path: {err}");
    driver.fail(err, Some(0)).unwrap();
    let error = job.get_error().unwrap();
    assert_eq!(error.get_error(), (BgErrorContext::LocalFile, 0x8007_0003));
    assert!(error.message().contains(local.to_str().unwrap()), "{}", error.message());
}

#[test]
fn wildcards_in_local_names_are_invalid_argument() {
    let fx = Fixture::new();
    assert_rejected(&fx, &remote(1), &fx.path("*.bin"));
    assert_rejected(&fx, &remote(1), &fx.path("a?.bin"));
}

#[test]
fn a_local_name_already_in_the_job_is_invalid_argument() {
    let fx = Fixture::new();
    // fx.local(0) is the file already in the job.
    assert_rejected(&fx, &remote(1), &fx.local(0));
}

#[test]
fn lexical_aliases_of_a_local_name_in_the_job_are_invalid_argument() {
    let fx = Fixture::new();
    let dir = fx.dir.path().display().to_string();
    for alias in [
        format!("{dir}/./file-0.bin"),
        format!("{dir}/sub/../file-0.bin"),
        format!("{dir}//file-0.bin"),
    ] {
        assert_rejected(&fx, &remote(1), Path::new(&alias));
    }
}

#[test]
fn the_same_local_name_twice_in_one_set_is_invalid_argument() {
    let fx = Fixture::new();
    let job = job_with_one_file(&fx);
    let before = observe(&job);
    let dir = fx.dir.path().display().to_string();
    for twin in [fx.local(5), PathBuf::from(format!("{dir}/./file-5.bin"))] {
        let set = [
            BgFileInfo::new(remote(5), fx.local(5)),
            BgFileInfo::new(remote(6), fx.local(6)),
            BgFileInfo::new(remote(7), twin),
        ];
        let err = job.add_file_set(&set).unwrap_err();
        assert_eq!(err.hresult(), hresult::E_INVALIDARG);
        assert_eq!(observe(&job), before);
    }
}

#[test]
fn two_remote_names_may_share_nothing_but_the_remote() {
    // The same remote name twice is fine: only local names must be unique.
    let fx = Fixture::new();
    let job = fx.job();
    job.add_file(&remote(1), &fx.local(1)).unwrap();
    job.add_file(&remote(1), &fx.local(2)).unwrap();
    assert_eq!(job.get_progress().files_total, 2);
}

// ---- sets, order, limits ------------------------------------------------------------------

#[test]
fn add_file_set_is_all_or_nothing() {
    let fx = Fixture::new();
    let job = job_with_one_file(&fx);
    let before = observe(&job);
    let set = [
        BgFileInfo::new(remote(1), fx.local(1)),
        BgFileInfo::new(remote(2), fx.local(2)),
        BgFileInfo::new("ftp://example.com/3", fx.local(3)),
        BgFileInfo::new(remote(4), fx.local(4)),
    ];
    assert_eq!(job.add_file_set(&set).unwrap_err().hresult(), hresult::E_INVALIDARG);
    assert_eq!(observe(&job), before);
    // The good entries can be added afterwards: nothing of the failed set was remembered.
    job.add_file_set(&[set[0].clone(), set[1].clone(), set[3].clone()]).unwrap();
    assert_eq!(job.get_progress().files_total, 4);
}

#[test]
fn an_empty_file_set_is_invalid_argument() {
    let fx = Fixture::new();
    let job = job_with_one_file(&fx);
    let before = observe(&job);
    assert_eq!(job.add_file_set(&[]).unwrap_err().hresult(), hresult::E_INVALIDARG);
    assert_eq!(observe(&job), before);
}

#[test]
fn files_keep_the_order_they_were_added_in() {
    let fx = Fixture::new();
    let job = fx.job();
    fx.add(&job, 3);
    job.add_file_set(&[
        BgFileInfo::new(remote(1), fx.local(1)),
        BgFileInfo::new(remote(4), fx.local(4)),
    ])
    .unwrap();
    fx.add(&job, 0);
    let order: Vec<(String, PathBuf)> =
        job.enum_files().iter().map(|f| (f.get_remote_name(), f.get_local_name())).collect();
    let expected: Vec<(String, PathBuf)> =
        [3, 1, 4, 0].iter().map(|&i| (remote(i), fx.local(i))).collect();
    assert_eq!(order, expected);
    let indices: Vec<usize> = job.enum_files().iter().map(JobFile::index).collect();
    assert_eq!(indices, vec![0, 1, 2, 3]);
}

#[test]
fn enum_files_is_a_snapshot_with_live_progress() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let snapshot = job.enum_files();
    fx.add(&job, 1);
    assert_eq!(snapshot.len(), 1, "files added later are not in an earlier snapshot");
    job.resume().unwrap();
    let driver = claim_connected(&job);
    transfer_file(&driver, 0, b"abc");
    assert_eq!(snapshot[0].get_progress().bytes_transferred, 3, "the handle shows live progress");
}

#[test]
fn a_new_file_has_unknown_size_nothing_transferred_and_is_not_completed() {
    let fx = Fixture::new();
    let job = fx.job_with_files(2);
    for file in job.enum_files() {
        assert_eq!(
            file.get_progress(),
            BgFileProgress { bytes_total: BG_SIZE_UNKNOWN, bytes_transferred: 0, completed: false }
        );
    }
}

#[test]
fn bytes_total_is_zero_without_files_and_unknown_while_any_size_is_unknown() {
    let fx = Fixture::new();
    let job = fx.job();
    assert_eq!(
        job.get_progress(),
        BgJobProgress {
            bytes_total: 0,
            bytes_transferred: 0,
            files_total: 0,
            files_transferred: 0
        }
    );
    fx.add(&job, 0);
    fx.add(&job, 1);
    assert_eq!(job.get_progress().bytes_total, BG_SIZE_UNKNOWN);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let mut first = driver.open_file(0).unwrap();
    first.set_size(Some(100)).unwrap();
    assert_eq!(job.get_progress().bytes_total, BG_SIZE_UNKNOWN, "file 1 is still unknown");
    let mut second = driver.open_file(1).unwrap();
    second.set_size(Some(23)).unwrap();
    assert_eq!(job.get_progress().bytes_total, 123);
    fx.add(&job, 2);
    assert_eq!(job.get_progress().bytes_total, BG_SIZE_UNKNOWN, "a new file makes it unknown");
    assert_eq!(job.get_progress().files_total, 3);
}

#[test]
fn too_many_files_is_too_many_files_in_job_at_the_configured_limit() {
    let fx =
        Fixture::with_manager(Manager::builder().without_engine().max_files_per_job(3).build());
    let job = fx.job_with_files(2);
    modification_time_settled(&job);
    let before = observe(&job);
    let set = [BgFileInfo::new(remote(2), fx.local(2)), BgFileInfo::new(remote(3), fx.local(3))];
    let err = job.add_file_set(&set).unwrap_err();
    assert!(matches!(err, BgError::TooManyFilesInJob { limit: 3 }), "{err:?}");
    assert_eq!(err.hresult(), hresult::BG_E_TOO_MANY_FILES_IN_JOB);
    assert_eq!(observe(&job), before);
    fx.add(&job, 2);
    let err = job.add_file(&remote(3), &fx.local(3)).unwrap_err();
    assert_eq!(err.hresult(), hresult::BG_E_TOO_MANY_FILES_IN_JOB);
    assert_eq!(job.get_progress().files_total, 3);
}

#[test]
fn the_default_limit_is_200_files_per_job() {
    let fx = Fixture::new();
    let job = fx.job();
    let set: Vec<BgFileInfo> = (0..200).map(|i| BgFileInfo::new(remote(i), fx.local(i))).collect();
    job.add_file_set(&set).unwrap();
    let err = job.add_file(&remote(200), &fx.local(200)).unwrap_err();
    assert!(matches!(err, BgError::TooManyFilesInJob { limit: 200 }), "{err:?}");
    assert_eq!(job.get_progress().files_total, 200);
}

// ---- jobs ---------------------------------------------------------------------------------

#[test]
fn the_default_limit_is_60_jobs_per_owner() {
    let manager = support::manager();
    for i in 0..60 {
        manager.create_job(&format!("job {i}"), BgJobType::Download).unwrap();
    }
    let err = manager.create_job("one too many", BgJobType::Download).unwrap_err();
    assert!(matches!(err, BgError::TooManyJobsPerUser { limit: 60 }), "{err:?}");
    assert_eq!(err.hresult(), hresult::BG_E_TOO_MANY_JOBS_PER_USER);
    assert_eq!(manager.enum_jobs().len(), 60);
    // Another owner has a quota of its own.
    manager.as_owner("someone-else").create_job("theirs", BgJobType::Download).unwrap();
}

#[test]
fn jobs_per_owner_limit_is_configurable_and_final_jobs_free_their_slot() {
    let manager = Manager::builder().without_engine().max_jobs_per_owner(2).owner("alice").build();
    let first = manager.create_job("1", BgJobType::Download).unwrap();
    manager.create_job("2", BgJobType::Download).unwrap();
    let err = manager.create_job("3", BgJobType::Download).unwrap_err();
    assert_eq!(err.hresult(), hresult::BG_E_TOO_MANY_JOBS_PER_USER);
    manager.as_owner("bob").create_job("bob's", BgJobType::Download).unwrap();
    first.cancel().unwrap();
    manager.create_job("3 again", BgJobType::Download).expect("a cancelled job frees its slot");
}

#[test]
fn taking_ownership_moves_the_job_to_the_new_owners_quota() {
    let manager = Manager::builder().without_engine().max_jobs_per_owner(1).owner("alice").build();
    let job = manager.create_job("1", BgJobType::Download).unwrap();
    let bob = manager.as_owner("bob");
    bob.get_job(job.get_id()).unwrap().take_ownership().unwrap();
    manager.create_job("alice again", BgJobType::Download).expect("alice's slot is free");
    let err = bob.create_job("bob's second", BgJobType::Download).unwrap_err();
    assert_eq!(err.hresult(), hresult::BG_E_TOO_MANY_JOBS_PER_USER);
}

#[test]
fn jobs_per_manager_limit_counts_every_owner() {
    let manager = Manager::builder().without_engine().max_jobs(3).build();
    manager.create_job("1", BgJobType::Download).unwrap();
    manager.as_owner("b").create_job("2", BgJobType::Download).unwrap();
    manager.as_owner("c").create_job("3", BgJobType::Download).unwrap();
    let err = manager.as_owner("d").create_job("4", BgJobType::Download).unwrap_err();
    assert!(matches!(err, BgError::TooManyJobsPerMachine { limit: 3 }), "{err:?}");
    assert_eq!(err.hresult(), hresult::BG_E_TOO_MANY_JOBS_PER_MACHINE);
    assert_eq!(manager.enum_all_jobs().len(), 3);
}

#[test]
fn create_job_with_a_display_name_over_256_characters_is_invalid_argument() {
    let manager = support::manager();
    let err = manager.create_job(&"n".repeat(257), BgJobType::Download).unwrap_err();
    assert!(matches!(err, BgError::InvalidArgument(_)), "{err:?}");
    assert_eq!(err.hresult(), hresult::E_INVALIDARG);
    assert!(manager.enum_jobs().is_empty());
    let job = manager.create_job(&"n".repeat(256), BgJobType::Download).unwrap();
    assert_eq!(job.get_display_name().len(), 256);
    manager.create_job("", BgJobType::Download).expect("an empty display name is allowed");
}

#[test]
fn display_name_length_counts_utf16_units() {
    let manager = support::manager();
    // U+1F600 takes two UTF-16 units: 128 of them are 256 units, 129 are 258.
    manager.create_job(&"\u{1F600}".repeat(128), BgJobType::Download).unwrap();
    let err = manager.create_job(&"\u{1F600}".repeat(129), BgJobType::Download).unwrap_err();
    assert_eq!(err.hresult(), hresult::E_INVALIDARG);
    // 'é' is one unit (two UTF-8 bytes): 256 of them fit.
    manager.create_job(&"é".repeat(256), BgJobType::Download).unwrap();
}

#[test]
fn create_job_with_a_nul_character_is_invalid_argument() {
    let manager = support::manager();
    let err = manager.create_job("a\0b", BgJobType::Download).unwrap_err();
    assert_eq!(err.hresult(), hresult::E_INVALIDARG);
}

#[test]
fn upload_and_upload_reply_jobs_are_not_implemented() {
    let manager = support::manager();
    for job_type in [BgJobType::Upload, BgJobType::UploadReply] {
        let err = manager.create_job("up", job_type).unwrap_err();
        assert!(matches!(err, BgError::NotImplemented(_)), "{err:?}");
        assert_eq!(err.hresult(), hresult::E_NOTIMPL);
    }
    assert!(manager.enum_jobs().is_empty());
    assert_eq!(
        manager.create_job("down", BgJobType::Download).unwrap().get_type(),
        BgJobType::Download
    );
}

#[test]
fn a_new_job_is_suspended_with_zero_progress_and_a_fresh_id() {
    let manager = support::manager();
    let a = manager.create_job("a", BgJobType::Download).unwrap();
    let b = manager.create_job("a", BgJobType::Download).unwrap();
    assert_ne!(a.get_id(), b.get_id(), "display names need not be unique; ids are");
    assert_eq!(a.get_state(), BgJobState::Suspended);
    assert_eq!(a.get_progress(), BgJobProgress::default());
    assert!(a.enum_files().is_empty());
    let listed: Vec<JobId> = manager.enum_jobs().iter().map(|j| j.get_id()).collect();
    assert_eq!(listed, vec![a.get_id(), b.get_id()]);
}

#[test]
fn get_job_with_an_unknown_id_is_not_found() {
    let manager = support::manager();
    let err = manager.get_job(JobId::new_random()).unwrap_err();
    assert!(matches!(err, BgError::NotFound));
    assert_eq!(err.hresult(), 0x8020_0001);
}

#[test]
fn two_managers_are_independent() {
    let one = support::manager();
    let two = support::manager();
    let job = one.create_job("mine", BgJobType::Download).unwrap();
    assert!(two.get_job(job.get_id()).is_err());
    assert!(two.enum_jobs().is_empty());
}

mod arbitrary_input {
    //! Bad input never panics: arbitrary names either work or give `E_INVALIDARG`, and a refused
    //! call leaves the job as it was.

    use super::*;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "(https?|file|ftp|[a-z]{1,6})://[a-z./\\\\?*%\\x00é-]{0,40}",
            "/[a-z./\\\\?*\\x00é-]{0,40}",
            "[a-z./\\\\:]{0,20}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_names_are_accepted_or_invalid_argument(remote in name(), local in name()) {
            let manager = support::manager();
            let job = manager.create_job("fuzz", BgJobType::Download).unwrap();
            let before = observe(&job);
            match job.add_file(&remote, Path::new(&local)) {
                Ok(()) => {
                    prop_assert_eq!(job.get_progress().files_total, 1);
                    prop_assert_eq!(job.enum_files()[0].get_remote_name(), remote);
                }
                Err(err) => {
                    // A valid name whose directory does not exist is `ERROR_PATH_NOT_FOUND`.
                    let expected = [hresult::E_INVALIDARG, hresult::ERROR_PATH_NOT_FOUND_HR];
                    prop_assert!(expected.contains(&err.hresult()), "{:?}", err);
                    prop_assert_eq!(observe(&job), before);
                }
            }
        }

        #[test]
        fn arbitrary_display_names_are_accepted_or_refused(text in any::<String>()) {
            let manager = support::manager();
            match manager.create_job(&text, BgJobType::Download) {
                Ok(job) => prop_assert_eq!(job.get_display_name(), text),
                Err(err) => prop_assert_eq!(err.hresult(), hresult::E_INVALIDARG),
            }
        }
    }
}

#[test]
fn a_remote_name_is_checked_as_it_decodes_too() {
    let fx = Fixture::new();
    for remote in ["https://example.com/a%2A.bin", "https://example.com/a%00b", "file:///tmp/x%3F"]
    {
        assert_rejected(&fx, remote, &fx.local(0));
    }
    let job = fx.job();
    job.add_file("https://example.com/a%20b.bin", &fx.local(1)).expect("a decoded space is fine");
}

#[test]
fn a_scheme_declared_for_your_own_driver_is_accepted_without_an_engine_or_a_transport() {
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().without_engine().scheme("s3").build();
    let job = manager.create_job("own driver", BgJobType::Download).unwrap();
    job.add_file("s3://bucket/key", &dir.path().join("key")).unwrap();
    assert_eq!(job.enum_files()[0].get_remote_name(), "s3://bucket/key");
    let other = Manager::builder().without_engine().build().create_job("x", BgJobType::Download);
    let error = other.unwrap().add_file("s3://bucket/key", &dir.path().join("key")).unwrap_err();
    assert_eq!(error.hresult(), hresult::E_INVALIDARG);
}

#[cfg(not(feature = "http"))]
#[test]
fn an_http_url_for_the_engine_without_the_http_feature_is_refused_at_add_file_naming_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let job = Manager::new().create_job("no http", BgJobType::Download).unwrap();
    let error = job.add_file("https://example.com/a", &dir.path().join("a")).unwrap_err();
    assert_eq!(error.hresult(), hresult::E_INVALIDARG);
    assert!(error.to_string().contains("feature `http`"), "{error}");
}

/// A local name that passes validation transfers: its temporary name fits in `NAME_MAX` (255
/// bytes) however long the name is. Multi-byte characters keep the path within 260 characters.
#[test]
fn a_local_name_of_250_or_255_bytes_transfers_end_to_end() {
    let fx = Fixture::with_manager(Manager::new());
    let source = fx.path("source.bin");
    std::fs::write(&source, content(1)).unwrap();
    let job = fx.job();
    let mut locals = Vec::new();
    for len in [250, 255] {
        for last in ["a", "é"] {
            let name = format!("{}{}", "é".repeat((len - 1) / 2), "b".repeat((len - 1) % 2 + 1));
            let name = if last == "a" { "a".repeat(len) } else { name };
            assert_eq!(name.len(), len);
            let local = fx.path(&name);
            if local.to_str().unwrap().encode_utf16().count() > 260 {
                continue; // the directory of the test is too long for an ASCII name this long
            }
            job.add_file(source.to_str().unwrap(), &local).unwrap();
            locals.push(local);
        }
    }
    assert!(locals.len() >= 2, "both lengths are tried: {locals:?}");
    job.resume().unwrap();
    assert_eq!(
        job.wait(WAIT),
        BgJobState::Transferred,
        "{:?}",
        job.get_error().map(|e| e.message().to_owned())
    );
    job.complete().unwrap();
    for local in &locals {
        assert_eq!(std::fs::read(local).unwrap(), content(1), "{local:?}");
    }
    let left: Vec<_> =
        std::fs::read_dir(fx.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), locals.len() + 1, "no temporary file is left: {left:?}");
}
