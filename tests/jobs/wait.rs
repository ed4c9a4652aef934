//! Waiting without polling (DESIGN 5.1): `Job::wait` blocks until the job is settled or the
//! timeout passes; `Job::settled` is the same as a lazy future; a driver's `revoked` future
//! resolves when its claim ends. All of them are woken by the job's changes, never by a timer.

use crate::async_support;
use crate::support;

use BgJobState::*;
use async_support::{CountingWaker, block_on, poll_once};
use bgcopy::*;
use std::task::Poll;
use std::time::{Duration, Instant};
use support::*;

const SETTLED: [BgJobState; 5] = [Transferred, Error, Suspended, Acknowledged, Cancelled];
const MOVING: [BgJobState; 4] = [Queued, Connecting, Transferring, TransientError];

#[test]
fn wait_returns_at_once_in_every_settled_state() {
    let fx = Fixture::new();
    for state in SETTLED {
        let staged = staged(&fx, state, true);
        assert_eq!(staged.job.wait(Duration::MAX), state, "{state:?}");
    }
}

#[test]
fn wait_returns_the_state_after_its_timeout_in_every_moving_state() {
    let fx = Fixture::new();
    for state in MOVING {
        let staged = staged(&fx, state, true);
        let start = Instant::now();
        assert_eq!(staged.job.wait(Duration::from_millis(20)), state, "{state:?}");
        assert!(start.elapsed() >= Duration::from_millis(20), "{state:?} ended the wait early");
    }
}

#[test]
fn wait_with_duration_max_waits_as_long_as_it_takes() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let (started, waiter_id) = std::sync::mpsc::channel();
    let waiter = {
        let job = job.clone();
        std::thread::spawn(move || {
            started.send(kernel_thread_id()).unwrap();
            job.wait(Duration::MAX)
        })
    };
    // The waiter is blocked in `wait` (not merely not started yet) while the job is Queued...
    let waiter_id = waiter_id.recv().unwrap();
    wait_until_blocked(waiter_id, || true);
    assert!(!waiter.is_finished(), "Queued is not settled");
    let driver = claim_connected(&job);
    // ...and after changes that wake it without settling the job (the result says it did not
    // return then: it would be Transferring).
    wait_until_blocked(waiter_id, || true);
    assert!(!waiter.is_finished(), "Transferring is not settled");
    transfer_remaining(&driver);
    driver.finish().unwrap();
    assert_eq!(waiter.join().unwrap(), Transferred);
}

#[test]
fn a_change_made_by_another_thread_ends_the_wait() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let suspender = {
        let (job, waiter) = (job.clone(), kernel_thread_id());
        std::thread::spawn(move || {
            // Once this test's thread is blocked in `wait` (not before it waits).
            wait_until_blocked(waiter, || true);
            job.suspend().unwrap();
        })
    };
    assert_eq!(job.wait(WAIT), Suspended);
    suspender.join().unwrap();
}

/// The CPU time this thread has used, from `/proc/thread-self/stat` (clock ticks).
#[cfg(target_os = "linux")]
fn thread_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // Fields after the command name (which is in parentheses): utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn a_waiting_thread_uses_no_cpu() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let before = thread_cpu_ticks();
    assert_eq!(job.wait(Duration::from_millis(500)), Queued);
    // A waiter that spun would have used about 50 ticks (of 10 ms); a sleeping one none.
    let used = thread_cpu_ticks() - before;
    assert!(used <= 2, "the waiting thread used {used} ticks of CPU");
}

#[test]
fn settled_is_lazy_a_future_made_before_resume_resolves_to_transferred() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let settled = job.settled(); // made while Suspended, not polled yet
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let finisher = std::thread::spawn(move || {
        transfer_remaining(&driver);
        driver.finish().unwrap();
    });
    assert_eq!(block_on(settled, WAIT), Transferred);
    finisher.join().unwrap();
}

#[test]
fn settled_resolves_with_the_first_settled_state_it_sees() {
    let fx = Fixture::new();
    for state in SETTLED {
        let staged = staged(&fx, state, true);
        let mut settled = staged.job.settled();
        assert_eq!(poll_once(&mut settled, &CountingWaker::new()), Poll::Ready(state));
    }
}

#[test]
fn a_pending_settled_future_is_woken_by_changes_not_by_a_timer() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let waker = CountingWaker::new();
    let mut settled = job.settled();
    assert_eq!(poll_once(&mut settled, &waker), Poll::Pending);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(waker.wakes(), 0, "woken while nothing happened");
    let driver = job.claim().unwrap(); // Queued -> Connecting: a change, still not settled
    assert!(waker.wakes() >= 1, "not woken by the change");
    assert_eq!(poll_once(&mut settled, &waker), Poll::Pending);
    drop(driver); // back to Queued
    job.suspend().unwrap();
    assert_eq!(poll_once(&mut settled, &waker), Poll::Ready(Suspended));
}

#[test]
fn settled_futures_are_send_unpin_and_static() {
    fn check<F: std::future::Future<Output = BgJobState> + Send + Unpin + 'static>(_: &F) {}
    let fx = Fixture::new();
    let settled = fx.job().settled();
    check(&settled);
}

#[test]
fn revoked_resolves_when_the_claim_ends_and_not_before() {
    let fx = Fixture::new();
    type End = fn(&Job, JobDriver) -> Option<JobDriver>;
    let ends: [(&str, End); 3] = [
        ("suspend", |job, driver| {
            job.suspend().unwrap();
            Some(driver)
        }),
        ("cancel", |job, driver| {
            job.cancel().unwrap();
            Some(driver)
        }),
        ("complete", |job, driver| {
            job.complete().unwrap();
            Some(driver)
        }),
    ];
    for (name, end) in ends {
        let job = fx.job_with_files(1);
        job.resume().unwrap();
        let driver = claim_connected(&job);
        let waker = CountingWaker::new();
        let mut revoked = driver.revoked();
        let mut file_revoked = driver.open_file(0).unwrap().revoked();
        assert_eq!(poll_once(&mut revoked, &waker), Poll::Pending, "{name}");
        assert_eq!(poll_once(&mut file_revoked, &waker), Poll::Pending, "{name}");
        let kept = end(&job, driver);
        assert!(waker.wakes() >= 1, "{name}: not woken");
        assert_eq!(poll_once(&mut revoked, &waker), Poll::Ready(()), "{name}");
        assert_eq!(poll_once(&mut file_revoked, &waker), Poll::Ready(()), "{name}");
        drop(kept);
    }
}

#[test]
fn a_tokio_driver_can_select_on_its_claims_revocation() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let suspender = {
        let (job, waiter) = (job.clone(), kernel_thread_id());
        std::thread::spawn(move || {
            // Once this test's thread is blocked in the runtime (the select is polled).
            wait_until_blocked(waiter, || true);
            job.suspend().unwrap();
        })
    };
    let outcome = runtime.block_on(async {
        tokio::select! {
            () = driver.revoked() => "revoked",
            () = tokio::time::sleep(WAIT) => "still waiting",
        }
    });
    assert_eq!(outcome, "revoked");
    suspender.join().unwrap();
}
