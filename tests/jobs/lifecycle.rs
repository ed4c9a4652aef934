//! The job outlives its handles (DESIGN 5.1): any handle of a job, file or error, a pending
//! `JobSettled` and a subscription keep the manager's engine running; the engine stops when the
//! last one is gone, and that drop never waits for a transfer; `shutdown` stops it at once,
//! bounded by its timeout. Each test is named after the rule it checks.

use crate::async_support;
use crate::engine_support;

use async_support::block_on;
use bgcopy::transport::{LocalTransport, TransferError, TransferRequest, TransferSink, Transport};
use bgcopy::*;
use engine_support::*;
use parking_lot::{Condvar, Mutex};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// Creates a manager, a job of 4 MiB from a slow transport (at least 64 ms) into `dir`, resumes
/// it, and returns only the job: the manager value is dropped here while the job is still under
/// way, as in a function that keeps only the job.
fn start_slow(dir: &Path) -> Job {
    let slow = Arc::new(SlowTransport { size: 4 << 20, pause: Duration::from_millis(1) });
    let manager = Manager::builder().transport(slow).build();
    let job = manager.create_job("outlives its manager", BgJobType::Download).unwrap();
    job.add_file("slow://host/x", &dir.join("x.bin")).unwrap();
    job.resume().unwrap();
    drop(manager);
    assert_ne!(job.get_state(), BgJobState::Transferred, "still under way");
    job
}

/// Scheme `blocked`: holds the worker without ever looking at its sink until the test releases
/// it, like a transport stuck in a long read.
#[derive(Debug, Default)]
struct BlockedTransport {
    state: Mutex<(bool, bool)>, // (entered, released)
    cv: Condvar,
    returned: Mutex<bool>,
}

impl BlockedTransport {
    fn wait_entered(&self) {
        let mut state = self.state.lock();
        while !state.0 {
            assert!(!self.cv.wait_for(&mut state, PATIENCE).timed_out(), "never entered");
        }
    }

    fn release(&self) {
        self.state.lock().1 = true;
        self.cv.notify_all();
    }
}

impl Transport for BlockedTransport {
    fn schemes(&self) -> &[&str] {
        &["blocked"]
    }

    fn protocol(&self) -> &str {
        "blocked"
    }

    fn transfer(
        &self,
        _request: &TransferRequest<'_>,
        _sink: &mut dyn TransferSink,
    ) -> Result<(), TransferError> {
        let mut state = self.state.lock();
        state.0 = true;
        self.cv.notify_all();
        while !state.1 {
            self.cv.wait(&mut state);
        }
        *self.returned.lock() = true;
        Err(TransferError::Stopped)
    }
}

/// A manager whose only job is held by a [`BlockedTransport`] (which has started).
fn stuck_job(dir: &Path) -> (Manager, Job, Arc<BlockedTransport>) {
    let blocked = Arc::new(BlockedTransport::default());
    let manager = Manager::builder().transport(blocked.clone()).build();
    let job = manager.create_job("stuck", BgJobType::Download).unwrap();
    job.add_file("blocked://host/x", &dir.join("x")).unwrap();
    job.resume().unwrap();
    blocked.wait_entered();
    (manager, job, blocked)
}

#[test]
fn a_job_keeps_transferring_after_the_manager_that_made_it_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let job = start_slow(dir.path());
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred);
    assert_eq!(job.complete().unwrap(), BgSuccess::Ok);
    assert!(std::fs::read(dir.path().join("x.bin")).unwrap() == vec![0x5A; 4 << 20]);
}

#[test]
fn a_file_handle_alone_keeps_the_engine_running() {
    let dir = tempfile::tempdir().unwrap();
    let job = start_slow(dir.path());
    let file = job.enum_files().remove(0);
    drop(job);
    wait_until("the file to be transferred", || file.get_progress().bytes_transferred == 4 << 20);
}

#[test]
fn the_engine_stops_once_the_last_handle_of_any_kind_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let slow = Arc::new(SlowTransport { size: 1 << 30, pause: Duration::from_millis(1) });
    let manager = Manager::builder().transport(slow.clone()).build();
    let job = manager.create_job("abandoned", BgJobType::Download).unwrap();
    job.add_file("slow://host/x", &dir.path().join("x")).unwrap();
    job.resume().unwrap();
    wait_until("bytes to arrive", || job.get_progress().bytes_transferred > 0);
    let file = job.enum_files().remove(0);
    drop(manager);
    drop(job);
    assert!(Arc::strong_count(&slow) > 1, "the file handle keeps the engine");
    drop(file);
    // The engine's threads end and drop their transports.
    wait_until("the engine to stop", || Arc::strong_count(&slow) == 1);
}

#[test]
fn dropping_the_last_handle_never_waits_for_a_blocked_transport() {
    let dir = tempfile::tempdir().unwrap();
    let (manager, job, blocked) = stuck_job(dir.path());
    drop(manager);
    drop(job); // the last handle: returns while the transport is still blocked
    assert!(!*blocked.returned.lock(), "the drop waited for the transport");
    blocked.release();
    wait_until("the engine to stop", || Arc::strong_count(&blocked) == 1);
}

#[test]
fn shutdown_stops_the_engine_and_leaves_the_running_job_queued() {
    let dir = tempfile::tempdir().unwrap();
    let slow = Arc::new(SlowTransport { size: 1 << 30, pause: Duration::from_millis(1) });
    let manager = Manager::builder().transport(slow.clone()).build();
    let running = manager.create_job("running", BgJobType::Download).unwrap();
    running.add_file("slow://host/x", &dir.path().join("x")).unwrap();
    let waiting = manager.create_job("suspended", BgJobType::Download).unwrap();
    waiting.add_file("slow://host/y", &dir.path().join("y")).unwrap();
    running.resume().unwrap();
    wait_until("bytes to arrive", || running.get_progress().bytes_transferred > 0);

    assert!(manager.shutdown(PATIENCE), "every engine thread ended");
    assert!(!manager.has_engine());
    assert_eq!(running.get_state(), BgJobState::Queued);
    assert_eq!(waiting.get_state(), BgJobState::Suspended);
    let bytes = running.get_progress().bytes_transferred;
    assert!(bytes > 0);
    let temp = running.enum_files()[0].get_temporary_name().expect("the partial file stays");
    assert_eq!(std::fs::metadata(&temp).unwrap().len(), bytes);
    // Nothing transfers any more; the handles keep working.
    assert_eq!(running.wait(Duration::from_millis(50)), BgJobState::Queued);
    assert_eq!(running.get_progress().bytes_transferred, bytes);
    running.suspend().unwrap();
    assert_eq!(running.cancel().unwrap(), BgSuccess::Ok);
    assert!(dir_names(dir.path()).is_empty());
}

#[test]
fn shutdown_returns_false_after_its_timeout_while_a_transport_is_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let (manager, job, blocked) = stuck_job(dir.path());
    assert!(!manager.shutdown(Duration::from_millis(50)));
    blocked.release();
    // The worker gives the job back once its transport returns.
    wait_state(&job, BgJobState::Queued);
}

#[test]
fn shutdown_of_a_manager_without_an_engine_returns_at_once() {
    let manager = Manager::builder().without_engine().build();
    assert!(!manager.has_engine());
    assert!(manager.shutdown(Duration::ZERO));
}

#[test]
fn a_pending_settled_future_keeps_the_engine_running() {
    let dir = tempfile::tempdir().unwrap();
    let job = start_slow(dir.path());
    let settled = job.settled();
    drop(job);
    assert_eq!(block_on(settled, PATIENCE), BgJobState::Transferred);
}

#[test]
fn a_subscription_keeps_the_engine_running() {
    let dir = tempfile::tempdir().unwrap();
    let slow = Arc::new(SlowTransport { size: 4 << 20, pause: Duration::from_millis(1) });
    let manager = Manager::builder().transport(slow).build();
    let job = manager.create_job("listened to", BgJobType::Download).unwrap();
    job.add_file("slow://host/x", &dir.path().join("x")).unwrap();
    let id = job.get_id();
    let events = job.subscribe();
    job.resume().unwrap();
    drop(manager);
    drop(job);
    let transferred = Notification::StateChanged { job: id, state: BgJobState::Transferred };
    loop {
        match events.recv_timeout(PATIENCE) {
            Ok(event) if event == transferred => break,
            Ok(_) => {}
            Err(e) => panic!("no Transferred: {e:?}"),
        }
    }
}

#[test]
fn jobs_of_a_manager_without_an_engine_stay_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    write_pattern(&source, 1000, 8);
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("driven by hand", BgJobType::Download).unwrap();
    job.add_file(path_str(&source), &dir.path().join("copy.bin")).unwrap();
    job.resume().unwrap();
    drop(manager);
    assert_eq!(job.wait(Duration::from_millis(20)), BgJobState::Queued);
    let driver = job.claim().unwrap();
    driver.connected().unwrap();
    let mut transfer = driver.open_file(0).unwrap();
    let files = job.enum_files();
    LocalTransport.transfer(&TransferRequest::new(&job, &files[0]), &mut transfer).unwrap();
    transfer.finish().unwrap();
    driver.finish().unwrap();
    assert_eq!(job.wait(Duration::ZERO), BgJobState::Transferred);
}
