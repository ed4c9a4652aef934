//! Events for any number of subscribers (issue 8, DESIGN 5.1): every subscription of a job, and
//! every subscription of its manager, hears every discrete event in the order of the changes;
//! progress is a paced latest value; a subscriber that never reads slows nothing and loses no
//! discrete event; subscriptions end when nothing more can come. The BITS callback slot keeps its
//! single registration. Each test is named after the rule it checks.

use crate::async_support;
use crate::engine_support;
use crate::support;

use BgJobState::*;
use async_support::block_on;
use bgcopy::*;
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::time::Duration;
use support::*;

/// Everything waiting in `events`, without blocking.
fn drain(events: &Subscription) -> Vec<Notification> {
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    seen
}

/// The discrete notifications of `seen` (progress left out).
fn discrete(seen: &[Notification]) -> Vec<Notification> {
    seen.iter().filter(|n| !matches!(n, Notification::Progress { .. })).cloned().collect()
}

fn state(job: &Job, state: BgJobState) -> Notification {
    Notification::StateChanged { job: job.get_id(), state }
}

#[test]
fn every_subscriber_hears_every_discrete_event_in_the_order_of_the_changes() {
    let fx = Fixture::new();
    let job = fx.job();
    let first = job.subscribe();
    let second = job.subscribe().with_progress_interval(None);
    let everyone = fx.manager.subscribe();
    fx.add(&job, 0);
    job.set_priority(BgJobPriority::High).unwrap();
    job.resume().unwrap();
    let driver = claim_connected(&job);
    transfer_file(&driver, 0, &content(0));
    driver.finish().unwrap();
    job.complete().unwrap();
    let id = job.get_id();
    let expected = vec![
        Notification::Modified { job: id },
        Notification::Modified { job: id },
        state(&job, Queued),
        state(&job, Connecting),
        state(&job, Transferring),
        Notification::FileTransferred { job: id, index: 0 },
        state(&job, Transferred),
        state(&job, Acknowledged),
    ];
    let mut from_now = vec![state(&job, Suspended)]; // a job's subscription starts with its state
    from_now.extend(expected.iter().cloned());
    assert_eq!(discrete(&drain(&first)), from_now);
    assert_eq!(drain(&second), from_now, "no progress without an interval");
    assert_eq!(discrete(&drain(&everyone)), expected, "a manager's hears changes only");
    assert_eq!(first.try_recv(), Err(TryRecvError::Disconnected), "ends after the final state");
    assert_eq!(everyone.try_recv(), Err(TryRecvError::Empty), "the manager's goes on");
}

#[test]
fn a_manager_subscription_hears_every_job_of_every_owner() {
    let fx = Fixture::new();
    let everyone = fx.manager.subscribe();
    let mine = fx.job();
    let theirs = fx.manager.as_owner("someone else").create_job("theirs", BgJobType::Download);
    let theirs = theirs.unwrap();
    mine.cancel().unwrap();
    theirs.cancel().unwrap();
    assert_eq!(drain(&everyone), [state(&mine, Cancelled), state(&theirs, Cancelled)]);
}

#[test]
fn a_failure_is_announced_before_the_state_it_leads_to() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let events = job.subscribe().with_progress_interval(None);
    job.resume().unwrap();
    claim_connected(&job).fail(transient(hresult::BG_E_CONNECTION_CLOSED), Some(0)).unwrap();
    job.resume().unwrap();
    job.claim().unwrap().fail(fatal(hresult::BG_E_HTTP_ERROR_404), Some(0)).unwrap();
    let id = job.get_id();
    let failed = |hresult, transient| Notification::Failed {
        job: id,
        context: BgErrorContext::RemoteFile,
        hresult,
        transient,
    };
    assert_eq!(
        drain(&events),
        [
            state(&job, Suspended),
            state(&job, Queued),
            state(&job, Connecting),
            state(&job, Transferring),
            failed(hresult::BG_E_CONNECTION_CLOSED, true),
            state(&job, TransientError),
            state(&job, Queued),
            state(&job, Connecting),
            failed(hresult::BG_E_HTTP_ERROR_404, false),
            state(&job, Error),
        ]
    );
}

#[test]
fn a_subscriber_that_never_reads_keeps_only_the_latest_progress_and_loses_no_event() {
    let dir = tempfile::tempdir().unwrap();
    let size = 64u64 << 20;
    let slow = Arc::new(engine_engine_slow(size));
    let manager = Manager::builder().transport(slow).build();
    let job = manager.create_job("unread", BgJobType::Download).unwrap();
    job.add_file("slow://host/big", &dir.path().join("big.bin")).unwrap();
    let idle = job.subscribe().with_progress_interval(Some(Duration::from_millis(1)));
    job.resume().unwrap();
    assert_eq!(job.wait(engine_support::PATIENCE), Transferred);
    let seen = drain(&idle);
    let progress: Vec<&Notification> =
        seen.iter().filter(|n| matches!(n, Notification::Progress { .. })).collect();
    // About a thousand chunks were written; one progress value waits, the last, right before
    // the state change that ended the transfer.
    let done = BgJobProgress {
        bytes_total: size,
        bytes_transferred: size,
        files_total: 1,
        files_transferred: 1,
    };
    assert_eq!(progress, [&Notification::Progress { job: job.get_id(), progress: done }]);
    let at = seen.iter().position(|n| matches!(n, Notification::Progress { .. })).unwrap();
    assert_eq!(seen[at + 1], state(&job, Transferred));
    assert_eq!(
        discrete(&seen),
        [
            state(&job, Suspended),
            state(&job, Queued),
            state(&job, Connecting),
            state(&job, Transferring),
            Notification::FileTransferred { job: job.get_id(), index: 0 },
            state(&job, Transferred),
        ]
    );
}

/// A slow transport of `size` bytes in 64 KiB pieces, with no pause.
fn engine_engine_slow(size: u64) -> engine_support::SlowTransport {
    engine_support::SlowTransport { size, pause: Duration::ZERO }
}

/// Runs a job of 512 pieces of 64 KiB, 2 ms apart (a second or more of transfer), with one
/// subscription paced at `interval`; returns the progress values it received.
fn paced_progress(interval: Duration) -> Vec<BgJobProgress> {
    let dir = tempfile::tempdir().unwrap();
    let slow =
        Arc::new(engine_support::SlowTransport { size: 32 << 20, pause: Duration::from_millis(2) });
    let manager = Manager::builder().transport(slow).build();
    let job = manager.create_job("paced", BgJobType::Download).unwrap();
    job.add_file("slow://host/x", &dir.path().join("x.bin")).unwrap();
    let mut events = job.subscribe().with_progress_interval(Some(interval));
    job.resume().unwrap();
    let mut values = Vec::new();
    for event in events.by_ref() {
        match event {
            Notification::Progress { progress, .. } => {
                assert!(progress.is_consistent(), "{progress:?}");
                values.push(progress);
            }
            Notification::StateChanged { state: Transferred, .. } => break,
            _ => {}
        }
    }
    let bytes: Vec<u64> = values.iter().map(|p| p.bytes_transferred).collect();
    assert!(values.windows(2).all(|w| w[0] != w[1]), "each value is new: {values:?}");
    assert!(bytes.windows(2).all(|w| w[0] <= w[1]), "never backwards: {bytes:?}");
    assert_eq!(
        values.last().map(|p| (p.bytes_transferred, p.files_transferred)),
        Some((32 << 20, 1))
    );
    values
}

// Pacing is checked by counting, never against the clock: a loaded machine only makes the
// transfer slower, which can neither add events to a subscription paced once an hour nor take
// away the events of a transfer that lasts at least 512 pauses of 2 ms.

#[test]
fn progress_is_never_per_chunk() {
    // Paced once an hour: the figures at each state change out of `Connecting` and out of
    // `Transferring`, and the pacer's first sample, however slow the machine; 512 chunks would
    // be 512 events.
    let values = paced_progress(Duration::from_secs(3600));
    assert!(values.len() <= 3, "{} progress events for 512 chunks: {values:?}", values.len());
}

#[test]
fn progress_comes_at_the_pace_of_the_subscription_while_the_job_transfers() {
    // The transfer lasts at least a second (512 pauses of 2 ms); paced every 20 ms, a
    // subscription sees the count rise several times while it runs, not only at its end.
    let values = paced_progress(Duration::from_millis(20));
    let during = values.iter().filter(|p| p.files_transferred == 0).count();
    assert!(during >= 2, "progress while transferring: {values:?}");
}

#[test]
fn a_progress_interval_of_duration_max_means_never_and_kills_no_thread() {
    // `Duration::MAX` once panicked in the pacer thread, which then gave no subscription of the
    // manager any progress again.
    let dir = tempfile::tempdir().unwrap();
    let slow =
        Arc::new(engine_support::SlowTransport { size: 4 << 20, pause: Duration::from_millis(2) });
    let manager = Manager::builder().transport(slow).build();
    let job = manager.create_job("never", BgJobType::Download).unwrap();
    job.add_file("slow://host/x", &dir.path().join("x.bin")).unwrap();
    let never = job.subscribe().with_progress_interval(Some(Duration::MAX));
    let mut paced = job.subscribe().with_progress_interval(Some(Duration::from_millis(5)));
    job.resume().unwrap();
    let mut during = 0;
    for event in paced.by_ref() {
        match event {
            Notification::Progress { progress, .. } if progress.files_transferred == 0 => {
                during += 1;
            }
            Notification::StateChanged { state: Transferred, .. } => break,
            _ => {}
        }
    }
    assert!(during >= 1, "the other subscription still gets progress");
    drop(never);
}

#[test]
fn a_subscription_of_a_final_job_ends_at_once() {
    let fx = Fixture::new();
    let job = fx.job();
    job.cancel().unwrap();
    let seen: Vec<Notification> = job.subscribe().collect();
    assert_eq!(seen, [state(&job, Cancelled)], "its state, then the end");
}

#[test]
fn a_subscription_starts_with_the_state_a_settled_job_is_in() {
    // Like a job found `Transferred` after reopening a store: a loop that waits for that state
    // ends at once instead of waiting forever.
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    run_to_transferred(&job);
    let mut events = job.subscribe().with_progress_interval(None);
    assert_eq!(events.try_recv(), Ok(state(&job, Transferred)));
    let ended = block_on(
        async {
            let mut events = job.subscribe();
            while let Some(event) = events.recv().await {
                if let Notification::StateChanged { state: Transferred, .. } = event {
                    return true;
                }
            }
            false
        },
        WAIT,
    );
    assert!(ended, "the README's loop ends for a job already transferred");
    job.complete().unwrap();
    assert_eq!(events.by_ref().collect::<Vec<_>>(), [state(&job, Acknowledged)]);
}

#[test]
fn a_subscription_of_a_queued_job_starts_with_queued_then_every_change_in_order() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let events = job.subscribe().with_progress_interval(None);
    let driver = claim_connected(&job);
    transfer_remaining(&driver);
    driver.finish().unwrap();
    assert_eq!(
        drain(&events),
        [
            state(&job, Queued),
            state(&job, Connecting),
            state(&job, Transferring),
            Notification::FileTransferred { job: job.get_id(), index: 0 },
            state(&job, Transferred),
        ]
    );
}

#[test]
fn a_manager_subscription_ends_when_the_manager_shuts_down() {
    let manager = Manager::new();
    let events = manager.subscribe();
    let job = manager.create_job("before shutdown", BgJobType::Download).unwrap();
    job.set_description("x").unwrap();
    assert!(manager.shutdown(WAIT));
    let seen: Vec<Notification> = events.collect();
    assert_eq!(seen, [Notification::Modified { job: job.get_id() }]);
}

#[test]
fn recv_timeout_tells_a_timeout_from_the_end() {
    let fx = Fixture::new();
    let job = fx.job();
    let events = job.subscribe();
    assert_eq!(events.recv_timeout(Duration::from_millis(10)), Ok(state(&job, Suspended)));
    assert_eq!(events.recv_timeout(Duration::from_millis(10)), Err(RecvTimeoutError::Timeout));
    job.cancel().unwrap();
    assert_eq!(events.recv_timeout(Duration::from_millis(10)), Ok(state(&job, Cancelled)));
    assert_eq!(events.recv_timeout(Duration::MAX), Err(RecvTimeoutError::Disconnected));
}

#[test]
fn every_thread_blocked_on_one_subscription_hears_the_end() {
    let fx = Fixture::new();
    let job = fx.job();
    let events = Arc::new(job.subscribe());
    assert_eq!(events.try_recv(), Ok(state(&job, Suspended)));
    let (sender, receiver) = std::sync::mpsc::channel();
    let (started, thread_ids) = std::sync::mpsc::channel();
    for _ in 0..2 {
        let (events, sender, started) = (Arc::clone(&events), sender.clone(), started.clone());
        std::thread::spawn(move || {
            started.send(kernel_thread_id()).unwrap();
            let mut seen = Vec::new();
            let end = loop {
                match events.recv_timeout(Duration::MAX) {
                    Ok(event) => seen.push(event),
                    Err(end) => break end,
                }
            };
            let _ = sender.send((seen, end));
        });
    }
    // Both threads are blocked on the subscription before the end comes.
    for _ in 0..2 {
        wait_until_blocked(thread_ids.recv().unwrap(), || true);
    }
    job.cancel().unwrap();
    let mut heard = Vec::new();
    for _ in 0..2 {
        let (seen, end) = receiver.recv_timeout(WAIT).expect("a receiver was never woken");
        assert_eq!(end, RecvTimeoutError::Disconnected);
        heard.extend(seen);
    }
    assert_eq!(heard, [state(&job, Cancelled)], "each event goes to one receiver");
}

#[test]
fn every_future_polling_one_subscription_is_woken() {
    use async_support::{CountingWaker, poll_once};
    use std::future::poll_fn;
    use std::task::Poll;
    let fx = Fixture::new();
    let job = fx.job();
    let events = job.subscribe();
    assert_eq!(events.try_recv(), Ok(state(&job, Suspended)));
    let (first, second) = (CountingWaker::new(), CountingWaker::new());
    let mut a = Box::pin(poll_fn(|cx| events.poll_recv(cx)));
    let mut b = Box::pin(poll_fn(|cx| events.poll_recv(cx)));
    assert_eq!(poll_once(&mut a, &first), Poll::Pending);
    assert_eq!(poll_once(&mut b, &second), Poll::Pending);
    job.set_description("one event").unwrap();
    assert_eq!((first.wakes(), second.wakes()), (1, 1), "every polled receiver is woken");
    assert_eq!(
        poll_once(&mut a, &first),
        Poll::Ready(Some(Notification::Modified { job: job.get_id() }))
    );
    assert_eq!(poll_once(&mut b, &second), Poll::Pending);
    job.cancel().unwrap();
    assert!(second.wakes() >= 2, "the waiting receiver is woken again");
    assert_eq!(poll_once(&mut b, &second), Poll::Ready(Some(state(&job, Cancelled))));
    assert_eq!(poll_once(&mut a, &first), Poll::Ready(None));
    assert_eq!(poll_once(&mut b, &second), Poll::Ready(None));
}

#[test]
fn a_subscription_is_an_async_stream_for_any_executor() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let mut events = job.subscribe().with_progress_interval(None);
    let worker = {
        let job = job.clone();
        std::thread::spawn(move || run_to_transferred(&job))
    };
    let seen = block_on(
        async {
            let mut seen = Vec::new();
            while let Some(event) = events.recv().await {
                let end =
                    event == Notification::StateChanged { job: job.get_id(), state: Transferred };
                seen.push(event);
                if end {
                    break;
                }
            }
            seen
        },
        WAIT,
    );
    worker.join().unwrap();
    assert_eq!(seen.first(), Some(&state(&job, Suspended)), "the state when it subscribed");
    assert_eq!(seen.get(1), Some(&state(&job, Queued)));
    assert_eq!(seen.last(), Some(&state(&job, Transferred)));
}

#[cfg(feature = "stream")]
#[test]
fn with_the_stream_feature_a_subscription_is_a_futures_stream() {
    use futures_core::Stream;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};
    let fx = Fixture::new();
    let job = fx.job();
    let mut events = job.subscribe();
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(Pin::new(&mut events).poll_next(&mut cx), Poll::Ready(Some(state(&job, Suspended))));
    assert_eq!(Pin::new(&mut events).poll_next(&mut cx), Poll::Pending);
    job.cancel().unwrap();
    assert_eq!(Pin::new(&mut events).poll_next(&mut cx), Poll::Ready(Some(state(&job, Cancelled))));
    assert_eq!(Pin::new(&mut events).poll_next(&mut cx), Poll::Ready(None));
}

#[derive(Default)]
struct Counter(parking_lot::Mutex<u32>);

impl BackgroundCopyCallback for Counter {
    fn job_modification(&self, _job: &Job) {
        *self.0.lock() += 1;
    }
}

#[test]
fn the_callback_slot_keeps_one_registration_beside_any_number_of_subscriptions() {
    let fx = Fixture::new();
    let job = fx.job();
    let (old, new) = (Arc::new(Counter::default()), Arc::new(Counter::default()));
    job.set_notify_flags(BgNotify::JOB_MODIFICATION).unwrap();
    job.set_notify_interface(Some(old.clone())).unwrap();
    job.set_notify_interface(Some(new.clone())).unwrap(); // the last registration wins
    let subscriptions: Vec<Subscription> = (0..3).map(|_| job.subscribe()).collect();
    job.set_description("changed").unwrap();
    // Callbacks are delivered in order: once the new one heard the description change, every
    // earlier delivery is done. The old one heard at most its own registration.
    engine_support::wait_until("the callback", || *new.0.lock() >= 2);
    assert!(*old.0.lock() <= 1, "the old registration still hears the job");
    for events in &subscriptions {
        assert_eq!(
            drain(events),
            [state(&job, Suspended), Notification::Modified { job: job.get_id() }]
        );
    }
}
