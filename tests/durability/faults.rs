//! Faults that real machines bring (DESIGN 6.1): a full disk under the store or under a
//! download, changes recorded before they are applied and announced, and no flag that outlives
//! a failed call. The full disks are real: a small tmpfs mounted for the test (mounting needs
//! root, which CI has; elsewhere these tests say they are skipped).
#![cfg(feature = "store")]

use bgcopy::clock::{Clock, ManualClock};
use bgcopy::transport::TransferSink;
use bgcopy::*;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// The HRESULT of a full disk (`HRESULT_FROM_WIN32(ERROR_DISK_FULL)`).
const DISK_FULL: u32 = 0x8007_0070;
const PATIENCE: Duration = Duration::from_secs(60);

/// A small tmpfs, mounted for one test and unmounted when dropped: a disk that really fills.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts a tmpfs of `mib` MiB; `None` (with a note) where the test cannot mount (not root).
    fn mount(mib: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m,mode=0700"), "tmpfs"])
            .arg(dir.path())
            .status();
        match status {
            Ok(status) if status.success() => Some(SmallDisk { dir }),
            _ if !is_root() => {
                eprintln!("skipped: mounting a small tmpfs needs root");
                None
            }
            other => panic!("cannot mount a tmpfs as root: {other:?}"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Fills the disk: a file that takes every byte left (until the write fails with ENOSPC).
    fn fill(&self) {
        let mut filler = File::create(self.path("filler")).unwrap();
        let block = vec![0xAAu8; 64 * 1024];
        loop {
            match filler.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        // The last bytes: one at a time, so that not even a small write fits.
        while let Ok(1) = filler.write(&[0]) {}
    }

    /// Gives the space back.
    fn free(&self) {
        std::fs::remove_file(self.path("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|status| {
            status
                .lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// A source file of `len` bytes of a pattern, outside the small disk.
fn source(dir: &Path, len: usize) -> (PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let path = dir.join("source.bin");
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

#[test]
fn a_change_the_full_disk_cannot_record_is_refused_and_leaves_the_job_as_it_was() {
    let Some(disk) = SmallDisk::mount(16) else { return };
    let other = tempfile::tempdir().unwrap();
    let manager =
        Manager::builder().without_engine().store(disk.path("store")).try_build().unwrap();
    let job = manager.create_job("before", BgJobType::Download).unwrap();
    job.add_file("https://example.com/a", &other.path().join("a")).unwrap();
    job.set_description("before").unwrap();
    let events = job.subscribe().with_progress_interval(None);
    let current = Notification::StateChanged { job: job.get_id(), state: BgJobState::Suspended };
    assert_eq!(events.try_recv(), Ok(current), "a subscription starts with the job's state");
    let times = job.get_times();

    disk.fill();
    let refused: Vec<(&str, Result<()>)> = vec![
        ("set_description", job.set_description("after")),
        ("set_display_name", job.set_display_name("after")),
        ("set_priority", job.set_priority(BgJobPriority::High)),
        ("add_file", job.add_file("https://example.com/b", &other.path().join("b"))),
        ("resume", job.resume()),
        ("set_max_connections", job.set_max_connections(4)),
        ("set_max_bytes_per_second", job.set_max_bytes_per_second(Some(1000))),
        ("take_ownership", job.take_ownership()),
    ];
    for (call, result) in refused {
        let error = result.expect_err(call);
        assert_eq!(error.hresult(), DISK_FULL, "{call}: {error}");
    }
    assert_eq!(manager.create_job("new", BgJobType::Download).unwrap_err().hresult(), DISK_FULL);
    // Exactly as before: getters, progress, times, the job list, and no event.
    assert_eq!(job.get_description(), "before");
    assert_eq!(job.get_display_name(), "before");
    assert_eq!(job.get_priority(), BgJobPriority::Normal);
    assert_eq!(job.get_state(), BgJobState::Suspended);
    assert_eq!(job.get_progress().files_total, 1);
    assert_eq!(job.enum_files().len(), 1);
    assert_eq!(job.get_max_connections(), 1);
    assert_eq!(job.get_max_bytes_per_second(), None);
    assert_eq!(job.get_times(), times);
    assert_eq!(manager.enum_jobs().len(), 1);
    assert_eq!(events.try_recv(), Err(std::sync::mpsc::TryRecvError::Empty));

    // Space is back: the same calls work, and what they did is what the store has.
    disk.free();
    job.set_description("after").unwrap();
    job.add_file("https://example.com/b", &other.path().join("b")).unwrap();
    assert_eq!(job.get_progress().files_total, 2);
    let id = job.get_id();
    drop((job, events, manager));
    let manager =
        Manager::builder().without_engine().store(disk.path("store")).try_build().unwrap();
    let job = manager.get_job(id).unwrap();
    assert_eq!((job.get_description().as_str(), job.enum_files().len()), ("after", 2));
}

/// A store whose commits fail with a full disk while `full` is set: the injected fault (test
/// hook) for steps a real disk cannot be made to fail on cue (redb reuses free pages of its
/// file, so a full disk fails only the commits that grow it). The real full disk runs in the
/// tests around this one.
struct FailingStore {
    dir: PathBuf,
    full: Arc<std::sync::atomic::AtomicBool>,
    _hook: HookGuard,
}

impl FailingStore {
    fn install(dir: &Path) -> Arc<FailingStore> {
        let full = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let hook = {
            let (dir, full) = (dir.to_owned(), Arc::clone(&full));
            hooks::add_failure_hook(move |_point, path| {
                let full = path.starts_with(&dir) && full.load(std::sync::atomic::Ordering::SeqCst);
                full.then(|| std::io::Error::from(std::io::ErrorKind::StorageFull))
            })
        };
        Arc::new(FailingStore { dir: dir.to_owned(), full, _hook: hook })
    }

    fn set_full(&self, full: bool) {
        self.full.store(full, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn a_claim_suspend_cancel_or_complete_that_cannot_be_recorded_leaves_no_flag_set() {
    let dir = tempfile::tempdir().unwrap();
    let store = FailingStore::install(&dir.path().join("store"));
    let (src, data) = source(dir.path(), 100_000);
    let manager = Manager::builder().without_engine().store(&store.dir).try_build().unwrap();
    let job = manager.create_job("flags", BgJobType::Download).unwrap();
    let dest = dir.path().join("copy.bin");
    job.add_file(src.to_str().unwrap(), &dest).unwrap();
    job.resume().unwrap();

    // A claim is recorded lazily (a restart brings the job back Queued anyway): not refused.
    store.set_full(true);
    let driver = job.claim().unwrap();
    driver.connected().unwrap();
    {
        let mut transfer = driver.open_file(0).unwrap();
        transfer.set_size(Some(data.len() as u64)).unwrap();
        transfer.write(&data).unwrap();
        // The file counts as transferred only once that is recorded.
        let error = transfer.finish().unwrap_err();
        assert_eq!(error.hresult(), DISK_FULL, "{error:?}");
        assert!(error.is_transient(), "{error:?}");
    }
    assert_eq!(job.get_progress().files_transferred, 0);
    assert_eq!(job.get_state(), BgJobState::Transferring);
    assert_eq!(job.suspend().unwrap_err().hresult(), DISK_FULL);
    assert_eq!(job.cancel().unwrap_err().hresult(), DISK_FULL);
    assert_eq!(job.get_state(), BgJobState::Transferring, "nothing revoked the driver");
    assert!(driver.is_live());

    // Space is back: the same driver finishes.
    store.set_full(false);
    let transfer = driver.open_file(0).unwrap();
    transfer.finish().unwrap();
    assert_eq!(job.get_progress().files_transferred, 1);
    driver.finish().unwrap();
    assert_eq!(job.get_state(), BgJobState::Transferred);
    // complete(): its plan cannot be recorded, then its last step cannot.
    store.set_full(true);
    assert_eq!(job.complete().unwrap_err().hresult(), DISK_FULL);
    assert_eq!(job.get_state(), BgJobState::Transferred);
    assert!(!dest.exists(), "nothing renamed for a plan that was not recorded");
    store.set_full(false);
    job.complete().unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), data);
}

#[test]
fn a_last_step_that_cannot_be_recorded_leaves_the_job_able_to_finish_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let store = FailingStore::install(&dir.path().join("store"));
    let manager = Manager::builder().without_engine().store(&store.dir).try_build().unwrap();
    let (src, data) = source(dir.path(), 1000);
    for call in ["cancel", "complete"] {
        let job = manager.create_job(call, BgJobType::Download).unwrap();
        let dest = dir.path().join(format!("{call}.bin"));
        job.add_file(src.to_str().unwrap(), &dest).unwrap();
        job.resume().unwrap();
        let driver = job.claim().unwrap();
        driver.connected().unwrap();
        let mut transfer = driver.open_file(0).unwrap();
        transfer.set_size(Some(data.len() as u64)).unwrap();
        transfer.write(&data).unwrap();
        transfer.finish().unwrap();
        driver.finish().unwrap();
        // The plan is recorded; the store fills before the last step.
        let armed = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let hook = {
            let (store, armed) = (Arc::clone(&store), Arc::clone(&armed));
            let dir = dir.path().to_owned();
            add_hook(move |point, path| {
                let step = matches!(point, "remove:before" | "commit:renamed");
                if step
                    && path.starts_with(&dir)
                    && armed.swap(false, std::sync::atomic::Ordering::SeqCst)
                {
                    store.set_full(true);
                }
            })
        };
        let result = if call == "cancel" { job.cancel() } else { job.complete() };
        drop(hook);
        assert_eq!(result.unwrap_err().hresult(), DISK_FULL, "{call}");
        assert_eq!(job.get_state(), BgJobState::Transferred, "{call}");
        store.set_full(false);
        // No flag stays set: the same call works now.
        let done = if call == "cancel" { job.cancel() } else { job.complete() };
        assert!(done.is_ok(), "{call}: {done:?}");
        assert_eq!(dest.exists(), call == "complete", "{call}");
    }
}

#[test]
fn a_store_that_cannot_record_during_a_transfer_gives_a_transient_error_and_the_job_finishes_later()
{
    let dir = tempfile::tempdir().unwrap();
    let store = FailingStore::install(&dir.path().join("store"));
    let (src, data) = source(dir.path(), 300_000);
    let clock = Arc::new(ManualClock::new());
    let manager = Manager::builder()
        .clock(Arc::clone(&clock) as Arc<dyn Clock>)
        .store(&store.dir)
        .try_build()
        .unwrap();
    let job = manager.create_job("full", BgJobType::Download).unwrap();
    let dest = dir.path().join("copy.bin");
    job.add_file(src.to_str().unwrap(), &dest).unwrap();
    let events = job.subscribe().with_progress_interval(None);
    let hook = {
        // The disk fills as the file's last byte is synced, before its record.
        let (store, dir) = (Arc::clone(&store), dir.path().to_owned());
        add_hook(move |point, path| {
            if point == "finish:synced" && path.starts_with(&dir) {
                store.set_full(true);
            }
        })
    };
    job.resume().unwrap();
    let state = job.wait_until(PATIENCE, |s| s == BgJobState::TransientError || s.is_settled());
    assert_eq!(state, BgJobState::TransientError);
    let error = job.get_error().unwrap();
    assert_eq!(error.get_error(), (BgErrorContext::LocalFile, DISK_FULL));
    assert_eq!(job.get_progress().files_transferred, 0, "not recorded, not counted");
    let seen: Vec<Notification> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    assert!(
        !seen.iter().any(|n| matches!(n, Notification::FileTransferred { .. })),
        "no announcement of what was not recorded: {seen:?}"
    );
    drop(hook);
    store.set_full(false);
    // The scheduler has seen the failure (and timed its retry) before the clock moves.
    manager.wait_engine_pass();
    clock.advance(Duration::from_secs(600));
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred);
    job.complete().unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), data);
}

#[test]
fn a_full_destination_disk_is_a_transient_error_that_keeps_the_bytes_and_finishes_later() {
    let Some(disk) = SmallDisk::mount(12) else { return };
    let other = tempfile::tempdir().unwrap();
    // Larger than the disk: the transfer fills it (after a first chunk of 8 MiB).
    let (src, data) = source(other.path(), 20 << 20);
    let clock = Arc::new(ManualClock::new());
    let manager = Manager::builder().clock(Arc::clone(&clock) as Arc<dyn Clock>).build();
    let job = manager.create_job("big", BgJobType::Download).unwrap();
    let dest = disk.path("copy.bin");
    job.add_file(src.to_str().unwrap(), &dest).unwrap();
    job.resume().unwrap();
    assert_eq!(
        job.wait_until(PATIENCE, |s| s == BgJobState::TransientError),
        BgJobState::TransientError
    );
    let error = job.get_error().unwrap();
    assert_eq!(error.get_error(), (BgErrorContext::LocalFile, DISK_FULL));
    let kept = job.get_progress().bytes_transferred;
    assert!(kept > 0, "the bytes written are kept");
    // Space is back (the disk grows): the job goes on from its bytes.
    let grown = Command::new("mount")
        .args(["-o", "remount,size=48m"])
        .arg(disk.dir.path())
        .status()
        .unwrap();
    assert!(grown.success());
    // The scheduler has seen the failure (and timed its retry) before the clock moves.
    manager.wait_engine_pass();
    clock.advance(Duration::from_secs(600));
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred);
    assert!(job.get_progress().bytes_transferred >= kept);
    job.complete().unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), data);
}

// The fault and failure hooks are one per process: each test adds its own, on its own directory.
use crate::support::hooks::{self, HookGuard, add_fault_hook as add_hook};

/// Holds a thread at a fault point until the test lets it go, any number of times in a row.
#[derive(Default)]
struct Gate {
    /// (arrivals, releases)
    state: parking_lot::Mutex<(u32, u32)>,
    cv: parking_lot::Condvar,
}

impl Gate {
    fn pause(&self) {
        let mut state = self.state.lock();
        state.0 += 1;
        let me = state.0;
        self.cv.notify_all();
        while state.1 < me {
            self.cv.wait(&mut state);
        }
    }

    /// Waits until a thread is held (one not released yet).
    fn wait_paused(&self) {
        let mut state = self.state.lock();
        while state.0 <= state.1 {
            assert!(!self.cv.wait_for(&mut state, PATIENCE).timed_out(), "never paused");
        }
    }

    fn release(&self) {
        self.state.lock().1 += 1;
        self.cv.notify_all();
    }
}

/// Holds the store's commits at `store:before-commit` and looks at the job meanwhile.
#[test]
fn a_change_is_recorded_before_anyone_can_see_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let manager = Manager::builder().without_engine().store(&store).try_build().unwrap();
    let job = manager.create_job("quiet", BgJobType::Download).unwrap();
    job.add_file("https://example.com/a", &dir.path().join("a")).unwrap();
    let gate = Arc::new(Gate::default());
    let hook = {
        let gate = Arc::clone(&gate);
        let store = store.clone();
        add_hook(move |point: &str, path: &Path| {
            if point == "store:before-commit" && path.starts_with(&store) {
                gate.pause();
            }
        })
    };
    let events = job.subscribe().with_progress_interval(None);
    let current = Notification::StateChanged { job: job.get_id(), state: BgJobState::Suspended };
    assert_eq!(events.try_recv(), Ok(current), "a subscription starts with the job's state");
    let setter = {
        let job = job.clone();
        std::thread::spawn(move || {
            job.set_description("recorded first").unwrap();
            job.resume().unwrap();
        })
    };
    gate.wait_paused();
    assert_eq!(job.get_description(), "", "not applied before it is recorded");
    assert_eq!(events.try_recv(), Err(std::sync::mpsc::TryRecvError::Empty));
    gate.release();
    gate.wait_paused();
    assert_eq!(job.get_description(), "recorded first");
    assert_eq!(job.get_state(), BgJobState::Suspended, "resume not applied before its record");
    gate.release();
    setter.join().unwrap();
    drop(hook);
    assert_eq!(job.get_state(), BgJobState::Queued);
    assert!(matches!(events.try_recv(), Ok(Notification::Modified { .. })));
}

#[test]
fn a_request_for_ranges_the_store_cannot_record_is_refused_and_never_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let store = FailingStore::install(&dir.path().join("store"));
    let (src, _) = source(dir.path(), 100_000);
    let manager = Manager::builder().store(&store.dir).try_build().unwrap();
    let job = manager.create_job("on demand", BgJobType::Download).unwrap();
    job.set_property(BgJobProperty::OnDemandMode(true)).unwrap();
    job.add_file(src.to_str().unwrap(), &dir.path().join("copy.bin")).unwrap();
    let file = job.enum_files().remove(0);
    let range = |initial_offset, length| BgFileRange { initial_offset, length };
    store.set_full(true);
    let error = file.request_file_ranges(&[range(10, 20)]).unwrap_err();
    assert_eq!(error.hresult(), DISK_FULL, "{error:?}");
    store.set_full(false);
    file.request_file_ranges(&[range(50_000, 5)]).unwrap();
    job.resume().unwrap();
    let state = job.wait_until(PATIENCE, |s| s == BgJobState::Suspended || s.is_settled());
    assert_eq!(state, BgJobState::Suspended, "{:?}", job.get_error().ok());
    assert_eq!(
        file.get_filled_file_ranges(),
        [range(50_000, 5)],
        "the refused request was fetched"
    );
}
