//! Notifications (spec sections 1.7 and 3.8; DESIGN sections 1 and 3): which callback fires when,
//! the flags and `DISABLE`, the notifier thread, event order, re-entrancy, late registration.
//!
//! Events are awaited on a channel with a generous timeout. A test that checks that something did
//! *not* fire ends with a marker event that is certain to fire (a file finishing, carrying its
//! index) and relies on per-job event order: everything the job posted before the marker has been
//! delivered once the marker arrives.

use crate::support;

use bgcopy::transport::TransferError;
use bgcopy::*;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::{self, ThreadId};
use support::*;

/// A delivered callback, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Transferred,
    /// `job_error`, with the HRESULT of the report.
    Error(u32),
    Modification,
    /// `file_transferred`, with the file's index.
    File(usize),
}
use Ev::*;

/// Records every callback with the thread it ran on and the job it was for.
#[derive(Debug)]
struct Recorder {
    tx: Sender<(Ev, ThreadId, JobId)>,
}

impl Recorder {
    fn send(&self, job: &Job, ev: Ev) {
        let _ = self.tx.send((ev, thread::current().id(), job.get_id()));
    }
}

impl BackgroundCopyCallback for Recorder {
    fn job_transferred(&self, job: &Job) {
        self.send(job, Transferred);
    }
    fn job_error(&self, job: &Job, error: &JobError) {
        self.send(job, Error(error.get_error().1));
    }
    fn job_modification(&self, job: &Job) {
        self.send(job, Modification);
    }
    fn file_transferred(&self, job: &Job, file: &JobFile) {
        self.send(job, File(file.index()));
    }
}

/// The receiving end of a [`Recorder`].
struct Events {
    rx: Receiver<(Ev, ThreadId, JobId)>,
}

impl Events {
    /// The next event; fails the test if none arrives within [`WAIT`].
    fn next(&self) -> Ev {
        self.next_full().0
    }

    fn next_full(&self) -> (Ev, ThreadId, JobId) {
        self.rx.recv_timeout(WAIT).expect("a callback within the timeout")
    }

    /// Every event up to and including `marker`.
    fn until(&self, marker: &Ev) -> Vec<Ev> {
        let mut seen = Vec::new();
        loop {
            let ev = self.next();
            let done = &ev == marker;
            seen.push(ev);
            if done {
                return seen;
            }
        }
    }
}

/// Registers a recorder on `job` with `flags`; the registration's own modification event (if
/// flagged) is consumed.
fn record(job: &Job, flags: BgNotify) -> Events {
    job.set_notify_flags(flags).unwrap();
    let (tx, rx) = channel();
    job.set_notify_interface(Some(Arc::new(Recorder { tx }))).unwrap();
    let events = Events { rx };
    if flags.contains(BgNotify::JOB_MODIFICATION) && !flags.contains(BgNotify::DISABLE) {
        assert_eq!(events.next(), Modification, "the registration is a modification");
    }
    events
}

fn all() -> BgNotify {
    BgNotify::JOB_TRANSFERRED
        | BgNotify::JOB_ERROR
        | BgNotify::JOB_MODIFICATION
        | BgNotify::FILE_TRANSFERRED
}

// ---- flags ----------------------------------------------------------------------------------

#[test]
fn job_transferred_fires_only_with_its_flag() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let events = record(&job, BgNotify::FILE_TRANSFERRED);
    run_to_transferred(&job);
    // Marker: a second file, transferred after the job was (silently) transferred.
    fx.add(&job, 1);
    run_to_transferred(&job);
    assert_eq!(events.until(&File(1)), vec![File(0), File(1)]);

    let job = fx.job();
    job.add_file(&remote(5), &fx.path("five.bin")).unwrap();
    let events = record(&job, BgNotify::JOB_TRANSFERRED);
    run_to_transferred(&job);
    assert_eq!(events.next(), Transferred);
}

#[test]
fn job_error_fires_only_with_its_flag() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let events = record(&job, BgNotify::FILE_TRANSFERRED);
    job.resume().unwrap();
    claim_connected(&job).fail(fatal(hresult::E_ACCESSDENIED), Some(0)).unwrap();
    assert_eq!(job.get_state(), BgJobState::Error);
    run_to_transferred(&job);
    assert_eq!(events.until(&File(0)), vec![File(0)]);

    let job = fx.job();
    job.add_file(&remote(5), &fx.path("five.bin")).unwrap();
    let events = record(&job, BgNotify::JOB_ERROR);
    job.resume().unwrap();
    claim_connected(&job).fail(fatal(hresult::E_ACCESSDENIED), Some(0)).unwrap();
    assert_eq!(events.next(), Error(hresult::E_ACCESSDENIED));
}

#[test]
fn job_modification_fires_only_with_its_flag() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let events = record(&job, BgNotify::FILE_TRANSFERRED);
    job.set_description("changed").unwrap();
    job.set_priority(BgJobPriority::High).unwrap();
    fx.add(&job, 1);
    job.resume().unwrap();
    job.suspend().unwrap();
    run_to_transferred(&job);
    assert_eq!(events.until(&File(1)), vec![File(0), File(1)]);

    let job = fx.job();
    let events = record(&job, BgNotify::JOB_MODIFICATION);
    job.set_description("changed").unwrap();
    assert_eq!(events.next(), Modification);
}

#[test]
fn file_transferred_fires_only_with_its_flag() {
    let fx = Fixture::new();
    let job = fx.job_with_files(2);
    let events = record(&job, BgNotify::JOB_ERROR);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    transfer_file(&driver, 0, b"zero");
    driver.fail(fatal(hresult::E_ACCESSDENIED), Some(1)).unwrap();
    assert_eq!(events.next(), Error(hresult::E_ACCESSDENIED), "no file_transferred before it");
}

#[test]
fn file_transferred_fires_for_each_finished_file_in_order() {
    let fx = Fixture::new();
    let job = fx.job_with_files(3);
    let events = record(&job, BgNotify::FILE_TRANSFERRED | BgNotify::JOB_TRANSFERRED);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    for index in 0..3 {
        transfer_file(&driver, index, &content(index));
        assert_eq!(events.next(), File(index));
    }
    driver.finish().unwrap();
    assert_eq!(events.next(), Transferred);
}

#[test]
fn file_transferred_hands_over_the_finished_file() {
    #[derive(Debug)]
    struct Files(Sender<(std::path::PathBuf, BgFileProgress)>);
    impl BackgroundCopyCallback for Files {
        fn file_transferred(&self, _job: &Job, file: &JobFile) {
            let _ = self.0.send((file.get_local_name(), file.get_progress()));
        }
    }
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let (tx, rx) = channel();
    job.set_notify_flags(BgNotify::FILE_TRANSFERRED).unwrap();
    job.set_notify_interface(Some(Arc::new(Files(tx)))).unwrap();
    run_to_transferred(&job);
    let (local, progress) = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(local, fx.local(0));
    let size = content(0).len() as u64;
    assert_eq!((progress.bytes_total, progress.bytes_transferred), (size, size));
}

#[test]
fn disable_suppresses_every_callback() {
    let fx = Fixture::new();
    let job = fx.job_with_files(2);
    let events = record(&job, all() | BgNotify::DISABLE);
    job.set_description("quiet").unwrap();
    job.resume().unwrap();
    let driver = claim_connected(&job);
    transfer_file(&driver, 0, b"zero");
    driver.fail(transient(hresult::BG_E_CONNECTION_CLOSED), Some(1)).unwrap();
    job.fail_no_progress().unwrap(); // → Error
    run_to_transferred(&job); // file 1, → Transferred
    // Marker: clearing DISABLE is itself a modification, posted after everything above.
    job.set_notify_flags(all()).unwrap();
    assert_eq!(events.next(), Modification);
    fx.add(&job, 2);
    assert_eq!(events.next(), Modification, "callbacks fire again once DISABLE is clear");
}

#[test]
fn no_callback_fires_when_none_is_registered() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.set_notify_flags(all()).unwrap();
    run_to_transferred(&job); // would fire File(0), modifications, Transferred
    fx.add(&job, 1);
    job.suspend().unwrap();
    let events = record(&job, all());
    run_to_transferred(&job);
    let seen = events.until(&File(1));
    assert!(!seen.contains(&File(0)), "events from before the registration leaked: {seen:?}");
    assert!(!seen.contains(&Transferred), "{seen:?}");
    assert_eq!(events.next(), Modification, "the file finishing");
    assert_eq!(events.next(), Transferred);
}

#[test]
fn removing_the_callback_stops_notifications() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let events = record(&job, all());
    job.set_notify_interface(None).unwrap();
    run_to_transferred(&job);
    // The recorder was dropped by the job: the channel closes without any event.
    assert!(events.rx.recv_timeout(WAIT).is_err());
}

// ---- threads and order ----------------------------------------------------------------------

#[test]
fn callbacks_run_on_a_thread_other_than_the_callers() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let events = record(&job, all());
    let me = thread::current().id();
    job.set_description("x").unwrap();
    let (ev, thread, id) = events.next_full();
    assert_eq!((ev, id), (Modification, job.get_id()));
    assert_ne!(thread, me);
    // Also for the driver's events: never the driver's thread.
    run_to_transferred(&job);
    loop {
        let (ev, thread, _) = events.next_full();
        assert_ne!(thread, me, "{ev:?}");
        if ev == Transferred {
            break;
        }
    }
}

#[test]
fn callbacks_arrive_in_event_order_per_job() {
    let fx = Fixture::new();
    let job = fx.job();
    let events = record(&job, all());
    job.set_description("1").unwrap(); // Modification
    fx.add(&job, 0); // Modification
    fx.add(&job, 1); // Modification
    job.resume().unwrap(); // Modification (→ Queued)
    let driver = job.claim().unwrap(); // Modification (→ Connecting)
    driver.connected().unwrap(); // Modification (→ Transferring)
    transfer_file(&driver, 0, b"zero"); // File(0), Modification
    transfer_file(&driver, 1, b"one"); // File(1), Modification
    driver.finish().unwrap(); // Transferred
    job.complete().unwrap(); // Modification (→ Acknowledged)
    let expected = [
        Modification,
        Modification,
        Modification,
        Modification,
        Modification,
        Modification,
        File(0),
        Modification,
        File(1),
        Modification,
        Transferred,
        Modification,
    ];
    let seen: Vec<Ev> = (0..expected.len()).map(|_| events.next()).collect();
    assert_eq!(seen, expected);
}

#[test]
fn each_job_gets_its_own_events_in_its_own_order() {
    let fx = Fixture::new();
    let a = fx.job();
    let b = fx.job();
    let (tx, rx) = channel();
    for job in [&a, &b] {
        job.set_notify_flags(all()).unwrap();
        job.set_notify_interface(Some(Arc::new(Recorder { tx: tx.clone() }))).unwrap();
    }
    drop(tx);
    a.add_file(&remote(0), &fx.path("a0")).unwrap();
    b.add_file(&remote(0), &fx.path("b0")).unwrap();
    run_to_transferred(&a);
    run_to_transferred(&b);
    let mut per_job: std::collections::HashMap<JobId, Vec<Ev>> = Default::default();
    while per_job.values().filter(|evs| evs.last() == Some(&Transferred)).count() < 2 {
        let (ev, _, id) = rx.recv_timeout(WAIT).expect("a callback within the timeout");
        per_job.entry(id).or_default().push(ev);
    }
    for job in [&a, &b] {
        let evs = &per_job[&job.get_id()];
        let expected = [Modification, Modification, Modification, Modification, Modification];
        assert_eq!(evs[..5], expected, "registration, add, resume, claim, connected");
        assert_eq!(evs[5..], [File(0), Modification, Transferred]);
    }
}

// ---- which event for which change -----------------------------------------------------------

#[test]
fn every_setter_add_file_and_state_change_fires_job_modification() {
    let fx = Fixture::new();
    let job = fx.job();
    let events = record(&job, BgNotify::JOB_MODIFICATION);
    type Change<'a> = (&'static str, Box<dyn Fn() + 'a>);
    let changes: Vec<Change<'_>> = vec![
        ("set_display_name", Box::new(|| job.set_display_name("n").unwrap())),
        ("set_description", Box::new(|| job.set_description("d").unwrap())),
        ("set_priority", Box::new(|| job.set_priority(BgJobPriority::Low).unwrap())),
        (
            "set_minimum_retry_delay",
            Box::new(|| job.set_minimum_retry_delay(std::time::Duration::from_secs(9)).unwrap()),
        ),
        (
            "set_no_progress_timeout",
            Box::new(|| job.set_no_progress_timeout(std::time::Duration::from_secs(99)).unwrap()),
        ),
        (
            "set_proxy_settings",
            Box::new(|| job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap()),
        ),
        ("take_ownership", Box::new(|| job.take_ownership().unwrap())),
        (
            "set_notify_flags",
            Box::new(|| job.set_notify_flags(BgNotify::JOB_MODIFICATION).unwrap()),
        ),
        ("add_file", Box::new(|| fx.add(&job, 0))),
        ("resume", Box::new(|| job.resume().unwrap())),
        ("suspend", Box::new(|| job.suspend().unwrap())),
        ("cancel", Box::new(|| assert_eq!(job.cancel().unwrap(), BgSuccess::Ok))),
    ];
    for (what, change) in changes {
        change();
        assert_eq!(events.next(), Modification, "{what}");
    }
}

#[test]
fn entering_transferred_fires_job_transferred_not_job_modification() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    transfer_remaining(&driver);
    let events = record(&job, all());
    driver.finish().unwrap();
    // Marker: a modification after the transition.
    job.set_description("after").unwrap();
    assert_eq!(events.next(), Transferred);
    assert_eq!(events.next(), Modification);
}

#[test]
fn entering_error_fires_job_error_not_job_modification() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let events = record(&job, all());
    driver.fail(fatal(hresult::BG_E_HTTP_ERROR_404), Some(0)).unwrap();
    job.set_description("after").unwrap();
    assert_eq!(events.next(), Error(hresult::BG_E_HTTP_ERROR_404));
    assert_eq!(events.next(), Modification);
}

#[test]
fn transient_error_fires_no_job_error_until_it_becomes_error() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let events = record(&job, all());
    driver.fail(transient(hresult::BG_E_CONNECTION_CLOSED), Some(0)).unwrap();
    assert_eq!(events.next(), Modification, "entering TransientError is a modification");
    job.retry_now().unwrap();
    assert_eq!(events.next(), Modification);
    job.claim().unwrap().fail(transient(hresult::BG_E_CONNECTION_CLOSED), None).unwrap();
    assert_eq!(events.next(), Modification, "claim");
    assert_eq!(events.next(), Modification, "entering TransientError again");
    job.fail_no_progress().unwrap();
    assert_eq!(events.next(), Error(hresult::BG_E_CONNECTION_CLOSED), "the timeout gives up");
}

#[test]
fn job_error_hands_over_the_error_report() {
    #[derive(Debug)]
    struct Report(Sender<(BgErrorContext, u32, Option<usize>, BgJobState)>);
    impl BackgroundCopyCallback for Report {
        fn job_error(&self, job: &Job, error: &JobError) {
            let (context, code) = error.get_error();
            let file = error.get_file().ok().map(|f| f.index());
            let _ = self.0.send((context, code, file, job.get_state()));
        }
    }
    let fx = Fixture::new();
    let job = fx.job_with_files(2);
    let (tx, rx) = channel();
    job.set_notify_interface(Some(Arc::new(Report(tx)))).unwrap();
    job.resume().unwrap();
    let error = TransferError::fatal(hresult::E_ACCESSDENIED, BgErrorContext::LocalFile, "denied");
    claim_connected(&job).fail(error, Some(1)).unwrap();
    let report = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(
        report,
        (BgErrorContext::LocalFile, hresult::E_ACCESSDENIED, Some(1), BgJobState::Error)
    );
}

// ---- re-entrancy and late registration ------------------------------------------------------

#[test]
fn a_callback_may_complete_its_job_from_job_transferred() {
    #[derive(Debug)]
    struct AutoComplete(Sender<Result<BgSuccess>>);
    impl BackgroundCopyCallback for AutoComplete {
        fn job_transferred(&self, job: &Job) {
            let _ = job.get_progress();
            let _ = job.get_display_name();
            let _ = self.0.send(job.complete());
        }
    }
    let fx = Fixture::new();
    let job = fx.job_with_files(2);
    let (tx, rx) = channel();
    job.set_notify_interface(Some(Arc::new(AutoComplete(tx)))).unwrap();
    run_to_transferred(&job);
    let result = rx.recv_timeout(WAIT).expect("job_transferred ran without deadlocking");
    assert_eq!(result.unwrap(), BgSuccess::Ok);
    assert_eq!(job.get_state(), BgJobState::Acknowledged);
    assert_eq!(std::fs::read(fx.local(1)).unwrap(), content(1));
}

#[test]
fn a_callback_may_call_setters_of_its_job_from_job_error() {
    #[derive(Debug)]
    struct Fixer(Sender<Result<()>>);
    impl BackgroundCopyCallback for Fixer {
        fn job_error(&self, job: &Job, _error: &JobError) {
            let result = job
                .set_description("fixed")
                .and_then(|()| job.set_minimum_retry_delay(std::time::Duration::from_secs(5)))
                .and_then(|()| job.resume());
            let _ = self.0.send(result);
        }
    }
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let (tx, rx) = channel();
    job.set_notify_interface(Some(Arc::new(Fixer(tx)))).unwrap();
    job.resume().unwrap();
    claim_connected(&job).fail(fatal(hresult::E_ACCESSDENIED), Some(0)).unwrap();
    rx.recv_timeout(WAIT).expect("job_error ran without deadlocking").unwrap();
    assert_eq!(job.get_description(), "fixed");
    assert_eq!(job.get_state(), BgJobState::Queued);
}

#[test]
fn a_callback_registered_after_the_job_was_transferred_still_gets_job_transferred() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    run_to_transferred(&job);
    let events = record(&job, BgNotify::JOB_TRANSFERRED);
    assert_eq!(events.next(), Transferred);
}

#[test]
fn a_callback_registered_after_the_job_entered_error_still_gets_job_error() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    claim_connected(&job).fail(fatal(hresult::E_ACCESSDENIED), Some(0)).unwrap();
    let events = record(&job, BgNotify::JOB_ERROR);
    assert_eq!(events.next(), Error(hresult::E_ACCESSDENIED));
}

#[test]
fn a_panicking_callback_does_not_stop_later_notifications() {
    #[derive(Debug)]
    struct Panics(Sender<Ev>);
    impl BackgroundCopyCallback for Panics {
        fn job_modification(&self, _job: &Job) {
            let _ = self.0.send(Modification);
            panic!("callback failure (expected by the test)");
        }
        fn job_transferred(&self, _job: &Job) {
            let _ = self.0.send(Transferred);
        }
    }
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let (tx, rx) = channel();
    job.set_notify_flags(all()).unwrap();
    job.set_notify_interface(Some(Arc::new(Panics(tx)))).unwrap();
    run_to_transferred(&job);
    let mut seen = Vec::new();
    while seen.last() != Some(&Transferred) {
        seen.push(rx.recv_timeout(WAIT).expect("notifications go on after a panic"));
    }
    assert!(seen.len() > 1, "{seen:?}");
}

// ---- MinimumNotificationIntervalMs (DESIGN 6.3) ---------------------------------------------

#[test]
fn minimum_notification_interval_paces_job_modification_while_transferring_but_no_state_change() {
    // On a manual clock that moves only when told: a modification without a state change while
    // the job transfers comes at most once per interval; state changes always come.
    let clock = Arc::new(bgcopy::clock::ManualClock::new());
    let manager = Manager::builder()
        .without_engine()
        .clock(Arc::clone(&clock) as Arc<dyn bgcopy::clock::Clock>)
        .build();
    let fx = Fixture::with_manager(manager);
    let job = fx.job_with_files(2);
    job.set_property(BgJobProperty::MinimumNotificationIntervalMs(1_000)).unwrap();
    let events = record(&job, all());
    job.resume().unwrap(); // Modification (→ Queued)
    let driver = claim_connected(&job); // Modification (→ Connecting), Modification (→ Transferring)
    // Within one interval of the last modification: every one of these is dropped.
    for round in 0..5 {
        job.set_description(&format!("busy {round}")).unwrap();
    }
    // One interval later: the next one comes, and the one after it does not.
    clock.advance(std::time::Duration::from_millis(1_000));
    job.set_description("later").unwrap();
    job.set_description("too soon").unwrap();
    transfer_file(&driver, 0, b"zero"); // File(0), Modification
    transfer_file(&driver, 1, b"one"); // File(1), Modification
    driver.finish().unwrap(); // Transferred
    assert_eq!(
        events.until(&Transferred),
        vec![
            Modification,
            Modification,
            Modification,
            Modification, // "later"
            File(0),
            Modification,
            File(1),
            Modification,
            Transferred,
        ]
    );
    // At rest, every change is reported whatever the interval.
    job.set_description("at rest 1").unwrap();
    job.set_description("at rest 2").unwrap();
    assert_eq!(events.next(), Modification);
    assert_eq!(events.next(), Modification);
}
