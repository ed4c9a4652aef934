//! DESIGN 6.2, where the bytes come from, on the job's side (no network): the rules of
//! `set_remote_name`, `replace_remote_prefix`, mirrors, peer caching flags, the maximum download
//! time, validation, the file properties, the notify command line, and what the store keeps of
//! them. Each test is named after the rule it checks. The engine's side is in
//! `tests/sources.rs`.

use bgcopy::clock::ManualClock;
use bgcopy::transport::{TransferError, TransferSink};
use bgcopy::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A temporary directory for downloads and stores.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        Place { dir: tempfile::tempdir().unwrap() }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn driven(&self) -> Manager {
        Manager::builder().without_engine().store(self.store()).try_build().unwrap()
    }
}

fn hresult_of<T: std::fmt::Debug>(result: Result<T>) -> u32 {
    result.unwrap_err().hresult()
}

fn job_with_files(manager: &Manager, place: &Place, urls: &[&str]) -> Job {
    let job = manager.create_job("sources", BgJobType::Download).unwrap();
    for (i, url) in urls.iter().enumerate() {
        job.add_file(url, &place.file(&format!("f{i}"))).unwrap();
    }
    job
}

fn cancelled(manager: &Manager, place: &Place) -> (Job, JobFile) {
    let job = job_with_files(manager, place, &["https://a.example/x"]);
    let file = job.enum_files().remove(0);
    job.cancel().unwrap();
    (job, file)
}

// ---- set_remote_name ----

#[test]
fn set_remote_name_changes_the_remote_name_and_validates_like_add_file() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x?sig=old"]);
    let file = &job.enum_files()[0];
    file.set_remote_name("https://b.example/x?sig=new").unwrap();
    assert_eq!(file.get_remote_name(), "https://b.example/x?sig=new");
    assert_eq!(job.enum_files()[0].get_remote_name(), "https://b.example/x?sig=new");
    assert_eq!(file.current_source(), "https://b.example/x?sig=new");
    for bad in ["", "not a url", "gopher://a.example/x", "relative/path"] {
        assert_eq!(hresult_of(file.set_remote_name(bad)), hresult::E_INVALIDARG, "{bad:?}");
    }
    assert_eq!(file.get_remote_name(), "https://b.example/x?sig=new", "a refusal changes nothing");
}

#[test]
fn set_remote_name_is_refused_once_the_job_is_final() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let (_job, file) = cancelled(&manager, &place);
    assert_eq!(
        hresult_of(file.set_remote_name("https://b.example/x")),
        hresult::BG_E_INVALID_STATE
    );
}

#[test]
fn set_remote_name_fires_a_modification() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x"]);
    let before = job.get_times().modification_time;
    let events = job.subscribe();
    job.enum_files()[0].set_remote_name("https://b.example/x").unwrap();
    let seen: Vec<Notification> = events.take(2).collect();
    assert!(seen.iter().any(|n| matches!(n, Notification::Modified { .. })), "{seen:?}");
    assert!(job.get_times().modification_time >= before);
}

// ---- replace_remote_prefix ----

#[test]
fn replace_remote_prefix_replaces_a_case_sensitive_prefix_of_every_file() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(
        &manager,
        &place,
        &["https://old.example/a", "https://old.example/b", "https://OLD.example/c"],
    );
    let result = job.replace_remote_prefix("https://old.example/", "https://new.example/v2/");
    assert_eq!(result.unwrap(), BgSuccess::Ok);
    let names: Vec<String> = job.enum_files().iter().map(|f| f.get_remote_name()).collect();
    assert_eq!(
        names,
        ["https://new.example/v2/a", "https://new.example/v2/b", "https://OLD.example/c"]
    );
}

#[test]
fn replace_remote_prefix_says_no_change_when_nothing_matched() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x"]);
    assert_eq!(
        job.replace_remote_prefix("https://z.example/", "https://y/").unwrap(),
        BgSuccess::NoChange
    );
    assert_eq!(BgSuccess::NoChange.hresult(), 1);
    assert_eq!(job.enum_files()[0].get_remote_name(), "https://a.example/x");
}

#[test]
fn replace_remote_prefix_with_an_empty_prefix_is_invalid() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x"]);
    assert_eq!(hresult_of(job.replace_remote_prefix("", "https://b/")), hresult::E_INVALIDARG);
    assert_eq!(hresult_of(job.replace_remote_prefix("https://", "")), hresult::E_INVALIDARG);
}

#[test]
fn replace_remote_prefix_is_all_or_nothing_when_one_result_is_refused() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x", "https://a.example2/y"]);
    // The second file would become "gopher://..." which add_file refuses.
    let result = job.replace_remote_prefix("https://a.example", "gopher://a.example");
    assert_eq!(hresult_of(result), hresult::E_INVALIDARG);
    let names: Vec<String> = job.enum_files().iter().map(|f| f.get_remote_name()).collect();
    assert_eq!(names, ["https://a.example/x", "https://a.example2/y"]);
}

#[test]
fn replace_remote_prefix_is_refused_once_the_job_is_final() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let (job, _file) = cancelled(&manager, &place);
    assert_eq!(
        hresult_of(job.replace_remote_prefix("https://a", "https://b")),
        hresult::BG_E_INVALID_STATE
    );
}

// ---- mirrors ----

#[test]
fn set_mirrors_keeps_ordered_fallbacks_and_get_remote_name_keeps_the_callers_name() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x"]);
    let file = &job.enum_files()[0];
    assert!(file.get_mirrors().is_empty());
    file.set_mirrors(&["https://m1.example/x", "http://m2.example/x"]).unwrap();
    assert_eq!(file.get_mirrors(), ["https://m1.example/x", "http://m2.example/x"]);
    assert_eq!(file.get_remote_name(), "https://a.example/x");
    assert_eq!(file.current_source(), "https://a.example/x");
    file.set_mirrors(&[]).unwrap();
    assert!(file.get_mirrors().is_empty());
}

#[test]
fn more_than_16_mirrors_is_invalid_and_each_mirror_is_validated() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x"]);
    let file = &job.enum_files()[0];
    let urls: Vec<String> = (0..17).map(|i| format!("https://m{i}.example/x")).collect();
    let refs: Vec<&str> = urls.iter().map(String::as_str).collect();
    assert_eq!(hresult_of(file.set_mirrors(&refs)), hresult::E_INVALIDARG);
    file.set_mirrors(&refs[..16]).unwrap();
    assert_eq!(file.get_mirrors().len(), 16);
    assert_eq!(
        hresult_of(file.set_mirrors(&["https://ok.example/x", "no scheme"])),
        hresult::E_INVALIDARG
    );
    assert_eq!(file.get_mirrors().len(), 16, "a refusal changes nothing");
}

#[test]
fn set_mirrors_is_refused_once_the_job_is_final() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let (_job, file) = cancelled(&manager, &place);
    assert_eq!(hresult_of(file.set_mirrors(&["https://m.example/x"])), hresult::BG_E_INVALID_STATE);
}

// ---- peer caching and the maximum download time ----

#[test]
fn peer_caching_flags_default_to_enable_client_and_can_be_set() {
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("peers", BgJobType::Download).unwrap();
    assert_eq!(job.get_peer_caching_flags(), BgPeerCaching::ENABLE_CLIENT);
    job.set_peer_caching_flags(BgPeerCaching::empty()).unwrap();
    assert_eq!(job.get_peer_caching_flags(), BgPeerCaching::empty());
    let flags = BgPeerCaching::ENABLE_CLIENT | BgPeerCaching::DISABLE_BRANCH_CACHE;
    job.set_peer_caching_flags(flags).unwrap();
    assert_eq!(job.get_peer_caching_flags(), flags);
}

#[test]
fn the_maximum_download_time_defaults_to_90_days() {
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("max", BgJobType::Download).unwrap();
    assert_eq!(job.get_maximum_download_time(), Duration::from_secs(90 * 24 * 3600));
    job.set_maximum_download_time(Duration::from_secs(60)).unwrap();
    assert_eq!(job.get_maximum_download_time(), Duration::from_secs(60));
    job.set_maximum_download_time(Duration::MAX).unwrap();
    assert_eq!(job.get_maximum_download_time(), Duration::MAX);
}

#[test]
fn job4_setters_are_refused_once_the_job_is_final() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let (job, _file) = cancelled(&manager, &place);
    assert_eq!(
        hresult_of(job.set_peer_caching_flags(BgPeerCaching::empty())),
        hresult::BG_E_INVALID_STATE
    );
    assert_eq!(
        hresult_of(job.set_maximum_download_time(Duration::from_secs(1))),
        hresult::BG_E_INVALID_STATE
    );
}

// ---- files: temporary name, validation, peers, properties, ranges ----

#[test]
fn a_file_before_any_response_has_no_headers_no_peer_bytes_and_is_not_validated() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x"]);
    let file = &job.enum_files()[0];
    let error =
        BackgroundCopyFile5::get_property(file, BgFilePropertyId::HttpResponseHeaders).unwrap_err();
    assert_eq!(error.hresult(), hresult::E_NOT_SET);
    assert_eq!(error.hresult(), 0x8007_0490);
    assert_eq!(file.get_peer_download_stats(), (0, 0));
    assert!(!file.is_downloaded_from_peer());
    assert!(!file.get_validation_state());
    assert_eq!(BackgroundCopyFile3::get_temporary_name(file), None);
    assert!(file.get_file_ranges().is_empty(), "a whole file has no ranges");
}

#[test]
fn set_validation_state_is_pending_until_the_file_is_transferred() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x"]);
    let file = &job.enum_files()[0];
    assert_eq!(hresult_of(file.set_validation_state(true)), hresult::E_PENDING);
    assert_eq!(hresult::E_PENDING, 0x8000_000A);
}

/// Drives file 0 of `job` to transferred with `data` through the driver API.
fn transfer_by_hand(job: &Job, data: &[u8]) {
    job.resume().unwrap();
    let driver = job.claim().unwrap();
    driver.connected().unwrap();
    let mut transfer = driver.open_file(0).unwrap();
    assert!(BackgroundCopyFile3::get_temporary_name(&job.enum_files()[0]).is_some());
    transfer.set_size(Some(data.len() as u64)).unwrap();
    transfer.write(data).unwrap();
    transfer.finish().unwrap();
    driver.finish().unwrap();
}

#[test]
fn set_validation_state_true_is_kept() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x"]);
    transfer_by_hand(&job, b"hello");
    let file = &job.enum_files()[0];
    file.set_validation_state(true).unwrap();
    assert!(file.get_validation_state());
    assert_eq!(job.get_state(), BgJobState::Transferred);
}

#[test]
fn set_validation_state_false_on_a_file_from_the_origin_puts_the_job_in_error() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x"]);
    transfer_by_hand(&job, b"hello");
    let file = &job.enum_files()[0];
    file.set_validation_state(false).unwrap();
    assert!(!file.get_validation_state());
    assert_eq!(job.get_state(), BgJobState::Error);
    let error = job.get_error().unwrap();
    assert_eq!(error.get_error().1, hresult::BG_E_VALIDATION_FAILED);
    assert_eq!(error.get_error().0, BgErrorContext::RemoteFile);
}

// ---- notify command line ----

#[test]
fn the_notify_command_line_is_kept_and_cleared() {
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("notify", BgJobType::Download).unwrap();
    assert_eq!(job.get_notify_cmd_line(), None);
    // The program need not exist when it is set.
    let program = Path::new("/no/such/program");
    job.set_notify_cmd_line(Some(program), Some("program \"a b\" c")).unwrap();
    assert_eq!(
        job.get_notify_cmd_line(),
        Some((program.to_path_buf(), "program \"a b\" c".to_owned()))
    );
    job.set_notify_cmd_line(Some(program), None).unwrap();
    assert_eq!(job.get_notify_cmd_line(), Some((program.to_path_buf(), String::new())));
    job.set_notify_cmd_line(None, None).unwrap();
    assert_eq!(job.get_notify_cmd_line(), None);
}

#[test]
fn notify_parameters_without_a_program_are_invalid() {
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("notify", BgJobType::Download).unwrap();
    assert_eq!(hresult_of(job.set_notify_cmd_line(None, Some("x"))), hresult::E_INVALIDARG);
}

#[test]
fn a_notify_program_over_260_or_parameters_over_4000_are_too_long() {
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("notify", BgJobType::Download).unwrap();
    let long_program = PathBuf::from(format!("/{}", "p".repeat(260)));
    assert_eq!(
        hresult_of(job.set_notify_cmd_line(Some(&long_program), None)),
        hresult::BG_E_STRING_TOO_LONG
    );
    let ok_program = PathBuf::from(format!("/{}", "p".repeat(259)));
    job.set_notify_cmd_line(Some(&ok_program), Some(&"a".repeat(4000))).unwrap();
    assert_eq!(
        hresult_of(job.set_notify_cmd_line(Some(&ok_program), Some(&"a".repeat(4001)))),
        hresult::BG_E_STRING_TOO_LONG
    );
    assert_eq!(job.get_notify_cmd_line().unwrap().1.len(), 4000, "a refusal changes nothing");
}

#[test]
fn take_ownership_clears_the_notify_command_line() {
    let manager = Manager::builder().without_engine().owner("alice").build();
    let job = manager.create_job("notify", BgJobType::Download).unwrap();
    job.set_notify_cmd_line(Some(Path::new("/bin/true")), Some("true")).unwrap();
    let bob = manager.as_owner("bob");
    let theirs = bob.get_job(job.get_id()).unwrap();
    theirs.take_ownership().unwrap();
    assert_eq!(job.get_notify_cmd_line(), None);
}

#[test]
fn set_notify_cmd_line_is_refused_once_the_job_is_final() {
    let place = Place::new();
    let manager = Manager::builder().without_engine().build();
    let (job, _file) = cancelled(&manager, &place);
    assert_eq!(
        hresult_of(job.set_notify_cmd_line(Some(Path::new("/bin/true")), None)),
        hresult::BG_E_INVALID_STATE
    );
}

// ---- the store ----

#[test]
fn every_sources_setting_survives_a_reopen_of_the_store() {
    let place = Place::new();
    let id;
    {
        let manager = place.driven();
        let job = job_with_files(&manager, &place, &["https://a.example/x", "https://a.example/y"]);
        id = job.get_id();
        let files = job.enum_files();
        files[0].set_remote_name("https://b.example/x?sig=2").unwrap();
        files[1].set_mirrors(&["https://m1.example/y", "https://m2.example/y"]).unwrap();
        job.set_peer_caching_flags(BgPeerCaching::DISABLE_BRANCH_CACHE).unwrap();
        job.set_maximum_download_time(Duration::from_secs(3600)).unwrap();
        job.set_notify_cmd_line(Some(Path::new("/usr/bin/env")), Some("env true")).unwrap();
    }
    let manager = place.driven();
    let job = manager.get_job(id).unwrap();
    let files = job.enum_files();
    assert_eq!(files[0].get_remote_name(), "https://b.example/x?sig=2");
    assert_eq!(files[0].current_source(), "https://b.example/x?sig=2");
    assert_eq!(files[1].get_remote_name(), "https://a.example/y");
    assert_eq!(files[1].get_mirrors(), ["https://m1.example/y", "https://m2.example/y"]);
    assert_eq!(job.get_peer_caching_flags(), BgPeerCaching::DISABLE_BRANCH_CACHE);
    assert_eq!(job.get_maximum_download_time(), Duration::from_secs(3600));
    assert_eq!(
        job.get_notify_cmd_line(),
        Some((PathBuf::from("/usr/bin/env"), "env true".to_owned()))
    );
}

#[test]
fn replace_remote_prefix_and_the_validation_state_survive_a_reopen() {
    let place = Place::new();
    let id;
    {
        let manager = place.driven();
        let job = job_with_files(&manager, &place, &["https://a.example/x"]);
        id = job.get_id();
        job.replace_remote_prefix("https://a.example", "https://c.example").unwrap();
        transfer_by_hand(&job, b"data");
        job.enum_files()[0].set_validation_state(true).unwrap();
    }
    let manager = place.driven();
    let job = manager.get_job(id).unwrap();
    let file = &job.enum_files()[0];
    assert_eq!(file.get_remote_name(), "https://c.example/x");
    assert!(file.get_validation_state());
}

// ---- running the notify command line ----

/// A named pipe the notify program writes to: reading a line waits for a run, no polling.
#[cfg(unix)]
fn fifo(place: &Place) -> PathBuf {
    let path = place.file("runs.fifo");
    let status = std::process::Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(status.success());
    path
}

/// Reads one line from the pipe (opening it waits for a writer).
#[cfg(unix)]
fn read_run(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[cfg(unix)]
#[test]
fn the_notify_program_runs_without_a_shell_when_the_job_is_transferred() {
    let place = Place::new();
    let fifo = fifo(&place);
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x"]);
    // The parameters start with the program's name; "a b" is one argument, and `$0` is the
    // third word, not expanded by any shell before `sh` gets it.
    let script = format!("printf '%s|%s|%s' \"$0\" \"$1\" \"$2\" > '{}'", fifo.display());
    // Inner double quotes are escaped as a Windows command line escapes them.
    let script = script.replace('"', "\\\"");
    let parameters = format!("sh -c \"{script}\" zero \"a b\" $HOME");
    job.set_notify_cmd_line(Some(Path::new("/bin/sh")), Some(&parameters)).unwrap();
    transfer_by_hand(&job, b"done");
    assert_eq!(read_run(&fifo), "zero|a b|$HOME");
}

#[cfg(unix)]
#[test]
fn the_notify_program_runs_when_the_job_enters_error() {
    let place = Place::new();
    let fifo = fifo(&place);
    let manager = Manager::builder().without_engine().build();
    let job = job_with_files(&manager, &place, &["https://a.example/x"]);
    let parameters = format!("sh -c \"echo error > '{}'\"", fifo.display());
    job.set_notify_cmd_line(Some(Path::new("/bin/sh")), Some(&parameters)).unwrap();
    job.resume().unwrap();
    let driver = job.claim().unwrap();
    let error = TransferError::fatal(0x8019_0194, BgErrorContext::RemoteFile, "not found");
    driver.fail(error, Some(0)).unwrap();
    assert_eq!(job.get_state(), BgJobState::Error);
    assert_eq!(read_run(&fifo), "error\n");
}

#[cfg(unix)]
#[test]
fn a_notify_program_that_fails_runs_again_after_the_minimum_retry_delay() {
    let place = Place::new();
    let fifo = fifo(&place);
    let clock = std::sync::Arc::new(ManualClock::new());
    let manager = Manager::builder().without_engine().clock(clock.clone()).build();
    let job = job_with_files(&manager, &place, &["https://a.example/x"]);
    job.set_minimum_retry_delay(Duration::from_secs(30)).unwrap();
    let parameters = format!("sh -c \"echo run > '{}'; exit 3\"", fifo.display());
    job.set_notify_cmd_line(Some(Path::new("/bin/sh")), Some(&parameters)).unwrap();
    transfer_by_hand(&job, b"done");
    assert_eq!(read_run(&fifo), "run\n");
    // Not again before the delay: the clock has not moved. Once it has, the program runs again
    // (the job is still transferred: neither completed nor cancelled).
    clock.advance(Duration::from_secs(30));
    assert_eq!(read_run(&fifo), "run\n");
    clock.advance(Duration::from_secs(30));
    assert_eq!(read_run(&fifo), "run\n");
    job.complete().unwrap();
}

/// A notify run cut by the end of the process (a crash before the program started, or a run
/// that failed) is not lost: a manager with an engine that reopens the store runs the program
/// of each job still in `Transferred` or `Error` (BITS runs it again while the job stays there).
#[cfg(unix)]
#[test]
fn a_reopened_store_runs_the_notify_program_of_a_job_still_transferred() {
    let place = Place::new();
    let fifo = fifo(&place);
    let program = place.file("notify.sh");
    let id = {
        let manager = Manager::builder().without_engine().store(place.store()).build();
        let job = job_with_files(&manager, &place, &["https://a.example/x"]);
        job.set_minimum_retry_delay(Duration::from_secs(3600)).unwrap();
        // The program does not exist yet: the run in this process fails to start.
        job.set_notify_cmd_line(Some(&program), Some("notify.sh again")).unwrap();
        transfer_by_hand(&job, b"done");
        assert_eq!(job.get_state(), BgJobState::Transferred);
        job.get_id()
    };
    std::fs::write(&program, format!("#!/bin/sh\necho \"$1\" > '{}'\n", fifo.display())).unwrap();
    let status = std::process::Command::new("chmod").arg("755").arg(&program).status().unwrap();
    assert!(status.success());
    let manager = Manager::builder().store(place.store()).build();
    // Read on a thread: a missing run fails the test at the deadline instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(read_run(&fifo)));
    let run = rx.recv_timeout(Duration::from_secs(60)).expect("the notify program ran");
    assert_eq!(run, "again\n");
    manager.get_job(id).unwrap().complete().unwrap();
}

// ---- the cache host ----

#[test]
fn a_cache_host_is_host_and_port_and_nothing_else() {
    for good in ["cache.lan", "cache.lan:8080", "10.0.0.5:3128", "[fd00::1]:80", "[fd00::1]"] {
        let built = Manager::builder().without_engine().cache_host(good).try_build();
        assert!(built.is_ok(), "{good}: {:?}", built.err());
    }
    for bad in [
        "",
        "http://cache.lan",
        "cache.lan/path",
        "user@cache.lan",
        "cache.lan:0",
        "a b",
        "cache:port",
        "fd00::1",
    ] {
        let error = Manager::builder().without_engine().cache_host(bad).try_build().unwrap_err();
        assert_eq!(error.hresult(), hresult::E_INVALIDARG, "{bad:?}");
    }
}

// ---- mirrors in the engine, local files (the HTTP cases are in tests/sources.rs) ----

#[test]
fn a_local_file_falls_back_to_its_local_mirror() {
    let place = Place::new();
    let mirror = place.file("mirror.bin");
    std::fs::write(&mirror, b"from the mirror").unwrap();
    let manager = Manager::builder().build();
    let job = manager.create_job("local mirror", BgJobType::Download).unwrap();
    let missing = place.file("missing.bin");
    job.add_file(missing.to_str().unwrap(), &place.file("out.bin")).unwrap();
    let file = job.enum_files().remove(0);
    file.set_mirrors(&[mirror.to_str().unwrap()]).unwrap();
    job.resume().unwrap();
    let state = job.wait_until(Duration::from_secs(60), |s| {
        matches!(s, BgJobState::Transferred | BgJobState::Error | BgJobState::TransientError)
    });
    assert_eq!(state, BgJobState::Transferred, "{:?}", job.get_error().map(|e| e.get_error()));
    assert_eq!(file.current_source(), mirror.to_str().unwrap());
    job.complete().unwrap();
    assert_eq!(std::fs::read(place.file("out.bin")).unwrap(), b"from the mirror");
}
