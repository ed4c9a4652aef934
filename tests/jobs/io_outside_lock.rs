//! No blocking file-system work under a job's lock (issue 8): while `complete()` fsyncs and
//! renames, `cancel()` deletes, or a driver opens a temporary file, the job's getters and other
//! calls answer. The file work is held at a fault point (internal feature `_test-hooks`) so that
//! the overlap is certain; the real file work then runs to the end and the guarantees hold.

use crate::support;

#[cfg(feature = "store")]
use bgcopy::transport::TransferSink;
use bgcopy::*;
use parking_lot::{Condvar, Mutex};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use support::*;

/// Holds the file work at one fault point for paths under one directory until released.
struct Pause {
    point: &'static str,
    dir: PathBuf,
    state: Mutex<(bool, bool)>, // (reached, released)
    cv: Condvar,
    _hook: HookGuard,
}

impl Pause {
    fn install(point: &'static str, dir: &Path) -> Arc<Pause> {
        Arc::new_cyclic(|pause: &Weak<Pause>| {
            let hooked = Weak::clone(pause);
            // Tests run in parallel: each pauses only its own directory.
            let hook = hooks::add_fault_hook(move |name, path| {
                if let Some(pause) = hooked.upgrade()
                    && pause.point == name
                    && path.starts_with(&pause.dir)
                {
                    pause.hold();
                }
            });
            Pause {
                point,
                dir: dir.to_owned(),
                state: Mutex::new((false, false)),
                cv: Condvar::new(),
                _hook: hook,
            }
        })
    }

    fn hold(&self) {
        let mut state = self.state.lock();
        state.0 = true;
        self.cv.notify_all();
        while !state.1 {
            self.cv.wait(&mut state);
        }
    }

    fn wait_reached(&self) {
        let mut state = self.state.lock();
        while !state.0 {
            assert!(
                !self.cv.wait_for(&mut state, WAIT).timed_out(),
                "{} never reached",
                self.point
            );
        }
    }

    fn release(&self) {
        self.state.lock().1 = true;
        self.cv.notify_all();
    }
}

// The fault hook is one per process: each test adds its own (removed with its `Pause`).
use crate::support::hooks::{self, HookGuard};
use std::sync::Weak;

/// Runs `getters` on another thread and fails if they do not return in time (a getter blocked
/// on the job lock would not).
fn answers_meanwhile(job: &Job, what: &str) {
    let job = job.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = job.get_display_name();
        let _ = job.get_times();
        let _ = job.enum_files();
        let _ = job.get_error_count();
        job.set_description("set while the file work runs").unwrap();
        tx.send(job.get_progress()).unwrap();
    });
    let progress =
        rx.recv_timeout(WAIT).unwrap_or_else(|_| panic!("getters blocked during {what}"));
    assert!(progress.is_consistent());
}

#[test]
fn getters_answer_while_complete_syncs_and_renames() {
    let fx = Fixture::new();
    let job = fx.job_with_files(2);
    run_to_transferred(&job);
    let pause = Pause::install("commit:before-rename", fx.dir.path());
    let completer = {
        let job = job.clone();
        std::thread::spawn(move || job.complete())
    };
    pause.wait_reached();
    answers_meanwhile(&job, "complete()");
    assert_eq!(job.get_state(), BgJobState::Transferred, "published only at the end");
    assert!(!fx.local(0).exists(), "no file appears before its rename");
    pause.release();
    assert_eq!(completer.join().unwrap().unwrap(), BgSuccess::Ok);
    assert_eq!(job.get_state(), BgJobState::Acknowledged);
    for index in 0..2 {
        assert_eq!(std::fs::read(fx.local(index)).unwrap(), content(index));
        assert!(job.enum_files()[index].get_progress().completed);
    }
}

#[test]
fn getters_answer_while_cancel_deletes() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    run_to_transferred(&job);
    let temp = job.enum_files()[0].get_temporary_name().unwrap();
    let pause = Pause::install("remove:before", fx.dir.path());
    let canceller = {
        let job = job.clone();
        std::thread::spawn(move || job.cancel())
    };
    pause.wait_reached();
    answers_meanwhile(&job, "cancel()");
    pause.release();
    assert_eq!(canceller.join().unwrap().unwrap(), BgSuccess::Ok);
    assert_eq!(job.get_state(), BgJobState::Cancelled);
    assert!(!temp.exists());
}

#[test]
fn getters_answer_while_a_driver_opens_a_file_and_no_claim_slips_in() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let pause = Pause::install("open:before", fx.dir.path());
    let (tx, rx) = mpsc::channel();
    let opener = std::thread::spawn(move || {
        let transfer = driver.open_file(0).map(|t| t.temp_path().to_owned());
        tx.send(()).unwrap();
        (transfer, driver)
    });
    pause.wait_reached();
    answers_meanwhile(&job, "open_file()");
    assert!(
        matches!(
            job.claim(),
            Err(BgError::InvalidState { reason: InvalidStateReason::Claimed, .. })
        ),
        "the claim still holds"
    );
    pause.release();
    rx.recv_timeout(WAIT).unwrap();
    let (temp, _driver) = opener.join().unwrap();
    assert!(temp.unwrap().exists());
}

#[test]
fn a_claim_during_completes_file_work_is_refused_and_the_job_ends_acknowledged() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    run_to_transferred(&job);
    fx.add(&job, 1); // work left, so that resume() queues it
    job.suspend().unwrap();
    let pause = Pause::install("commit:before-rename", fx.dir.path());
    let completer = {
        let job = job.clone();
        std::thread::spawn(move || job.complete())
    };
    pause.wait_reached();
    job.resume().unwrap();
    assert!(
        matches!(
            job.claim(),
            Err(BgError::InvalidState { reason: InvalidStateReason::Claimed, .. })
        ),
        "no driver during complete()"
    );
    pause.release();
    assert_eq!(completer.join().unwrap().unwrap(), BgSuccess::PartialComplete);
    assert_eq!(job.get_state(), BgJobState::Acknowledged);
    assert_eq!(std::fs::read(fx.local(0)).unwrap(), content(0));
}

#[cfg(feature = "store")]
#[test]
fn a_suspend_does_not_wait_for_a_checkpoints_file_sync() {
    // R12: a checkpoint syncs the temporary files without any lock of the job, so a suspend (or
    // the engine's own moves) never waits behind a large file's fsync.
    let fx = Fixture::new();
    let store = fx.dir.path().join("store");
    let manager = Manager::builder()
        .without_engine()
        .store(&store)
        .checkpoint_interval(std::time::Duration::from_millis(10))
        .try_build()
        .unwrap();
    let job = manager.create_job("synced", BgJobType::Download).unwrap();
    job.add_file(&remote(0), &fx.local(0)).unwrap();
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let mut transfer = driver.open_file(0).unwrap();
    transfer.set_size(Some(8)).unwrap();
    let pause = Pause::install("checkpoint:synced", fx.dir.path());
    transfer.write(b"half").unwrap();
    pause.wait_reached(); // the checkpointer is inside its sync step, held
    let (tx, rx) = mpsc::channel();
    {
        let job = job.clone();
        std::thread::spawn(move || tx.send(job.suspend()).unwrap());
    }
    let suspended = rx.recv_timeout(WAIT).expect("suspend() waited for the checkpoint's sync");
    pause.release();
    suspended.unwrap();
    assert_eq!(job.get_state(), BgJobState::Suspended);
    drop(transfer);
}
