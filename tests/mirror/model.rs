//! Random operation sequences against a reference model of the job state machine (STYLE habit
//! 11). The model below is written from the spec (section 3.3, the matrix; section 3.5, the error
//! count; section 1.6, error reports) and DESIGN section 4, not from the crate's `transition`:
//! after every step the real job and the model must agree on the state, the result, the
//! progress counters, the error count, the owner and whether an error report is available.
//!
//! Driver steps act on a driver the test holds between operations, as a downloader would; a
//! driver whose claim was revoked (suspend, cancel, complete) is dropped at once, as a downloader
//! would on seeing `should_stop()`.
//!
//! Waiting, handle drops and events are part of the model too (DESIGN 5.1): `wait(0)` and one
//! poll of `settled()` must agree with the model's state and whether it is settled; the manager
//! handle may be dropped at any point (the job's handles keep working); and a subscription made
//! at the start must hear, after every step, exactly the notifications the model says that step
//! causes, in order.
//!
//! `PROPTEST_CASES` sets the number of sequences (2000 by default).

use crate::support;

use BgJobState::*;
use bgcopy::transport::{TransferError, TransferSink};
use bgcopy::*;
use proptest::prelude::*;
use std::future::Future;
use support::*;

/// Files one job may hold in these runs: small, so the limit is hit.
const MAX_FILES: usize = 4;
/// Every file the driver writes has this many bytes.
const FILE_SIZE: u64 = 16;
const TRANSIENT: u32 = hresult::BG_E_CONNECTION_CLOSED;
const FATAL: u32 = hresult::BG_E_HTTP_ERROR_404;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    AddFile,
    AddEmptySet,
    Resume,
    Suspend,
    Cancel,
    Complete,
    SetPriority,
    TakeOwnership,
    Claim,
    Connected,
    WriteAndFinishNextFile,
    /// `JobDriver::finish`: every file done → `Transferred`.
    FinishJob,
    FailTransient,
    FailFatal,
    Release,
    RetryNow,
    FailNoProgress,
    GetError,
    /// `wait(Duration::ZERO)`: the state, at once.
    WaitZero,
    /// One poll of a fresh `settled()` future.
    PollSettled,
    /// Drops the manager handle: the job's handles keep working.
    DropManager,
}

/// The result of one operation, in a form both sides can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Success(BgSuccess),
    /// A failing call, by HRESULT.
    Err(u32),
    /// `get_error` succeeded with this HRESULT.
    Report(u32),
    /// A driver step with no driver held, or no file left to write.
    Skipped,
    /// `wait(0)` returned this state.
    State(BgJobState),
    /// A poll of `settled()`: `Some` state if it resolved.
    Settled(Option<BgJobState>),
}

/// Any operation but the two that end a job, weighted so that random sequences travel the whole
/// machine (files are added, resumed, claimed, written, finished, failed and retried).
fn busy_op() -> impl Strategy<Value = Op> {
    use Op::*;
    prop_oneof![
        4 => Just(AddFile),
        1 => Just(AddEmptySet),
        8 => Just(Resume),
        1 => Just(Suspend),
        1 => Just(SetPriority),
        1 => Just(TakeOwnership),
        6 => Just(Claim),
        5 => Just(Connected),
        7 => Just(WriteAndFinishNextFile),
        2 => Just(FinishJob),
        1 => Just(FailTransient),
        1 => Just(FailFatal),
        1 => Just(Release),
        2 => Just(RetryNow),
        1 => Just(FailNoProgress),
        2 => Just(GetError),
        2 => Just(WaitZero),
        2 => Just(PollSettled),
        1 => Just(DropManager),
    ]
}

/// Up to 40 operations: most cases start by adding files and resuming (a new job has neither), go
/// on with a stretch of busy operations, then perhaps `cancel` or `complete` (in whatever state the
/// job reached), then a few more, which a final job must refuse.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    let start = (0..=2usize, any::<bool>()).prop_map(|(files, resume)| {
        let mut ops = vec![Op::AddFile; files];
        ops.extend(resume.then_some(Op::Resume));
        ops
    });
    let end = prop::option::of(prop_oneof![Just(Op::Cancel), Just(Op::Complete)]);
    let tail = prop_oneof![busy_op(), Just(Op::Cancel), Just(Op::Complete)];
    (start, prop::collection::vec(busy_op(), 1..=32), end, prop::collection::vec(tail, 0..=4))
        .prop_map(|(mut ops, busy, end, tail)| {
            ops.extend(busy);
            ops.extend(end);
            ops.extend(tail);
            ops
        })
}

// ---- the reference model --------------------------------------------------------------------

#[derive(Debug)]
struct Model {
    state: BgJobState,
    /// One entry per file: whether it is transferred.
    files: Vec<bool>,
    error_count: u32,
    /// The HRESULT of the last failure (what `get_error` reports in E/TE).
    last_error: Option<u32>,
    owner_is_other: bool,
}

impl Model {
    fn new() -> Model {
        // A new job: Suspended, no files, error count 0 (spec 3.2 T1, 5.1).
        Model {
            state: Suspended,
            files: Vec::new(),
            error_count: 0,
            last_error: None,
            owner_is_other: false,
        }
    }

    fn is_final(&self) -> bool {
        matches!(self.state, Acknowledged | Cancelled)
    }

    /// A driver holds the job: it is connecting or transferring.
    fn claimed(&self) -> bool {
        matches!(self.state, Connecting | Transferring)
    }

    fn work_left(&self) -> bool {
        self.files.iter().any(|done| !done)
    }

    fn apply(&mut self, op: Op) -> Outcome {
        use Outcome::*;
        const INV: Outcome = Err(0x8020_0002);
        // Waiting and dropping handles work in every state, final ones included (DESIGN 5.1):
        // settled are Transferred, Error, Suspended and the final states.
        match op {
            Op::WaitZero => return State(self.state),
            Op::PollSettled => {
                let settled = matches!(
                    self.state,
                    Transferred | Error | Suspended | Acknowledged | Cancelled
                );
                return Settled(settled.then_some(self.state));
            }
            Op::DropManager => return Ok,
            _ => {}
        }
        // Final states reject every change (spec 3.1, 3.3).
        if self.is_final() && !matches!(op, Op::GetError) {
            return match op {
                Op::Connected
                | Op::WriteAndFinishNextFile
                | Op::FinishJob
                | Op::FailTransient
                | Op::FailFatal
                | Op::Release => Skipped,
                _ => INV,
            };
        }
        match op {
            // AddFile in every non-final state; the files-per-job limit (spec 1.2, 5.1).
            Op::AddFile if self.files.len() >= MAX_FILES => Err(0x8020_0051),
            Op::AddFile => {
                self.files.push(false);
                Ok
            }
            // An empty set is refused (bgcopy's choice; the spec is silent).
            Op::AddEmptySet => Err(0x8007_0057),
            // Resume: S/E/TE/TD → Q with work (TD only with new files); Q/C/T unchanged;
            // BG_E_EMPTY without work, state unchanged (spec 3.3, DESIGN 4).
            Op::Resume => match self.state {
                Queued | Connecting | Transferring => Ok,
                _ if self.work_left() => {
                    self.state = Queued;
                    Ok
                }
                _ => Err(0x8020_0003),
            },
            // Suspend from every non-final state (also E and TD, DESIGN 4).
            Op::Suspend => {
                self.state = Suspended;
                Ok
            }
            Op::Cancel => {
                self.state = Cancelled;
                Success(BgSuccess::Ok)
            }
            // Complete keeps the transferred files; a subset is BG_S_PARTIAL_COMPLETE (spec 3.6).
            Op::Complete => {
                self.state = Acknowledged;
                Success(if self.work_left() { BgSuccess::PartialComplete } else { BgSuccess::Ok })
            }
            Op::SetPriority => Ok,
            Op::TakeOwnership => {
                self.owner_is_other = true;
                Ok
            }
            // The scheduler's turn: Q → C (spec 3.2 T4); in any other state there is nothing to
            // claim.
            Op::Claim if self.state == Queued => {
                self.state = Connecting;
                Ok
            }
            Op::Claim => INV,
            _ if !self.claimed() && is_driver_step(op) => Skipped,
            // C → T (T5); already transferring stays.
            Op::Connected => {
                self.state = Transferring;
                Ok
            }
            Op::WriteAndFinishNextFile => match self.files.iter().position(|done| !done) {
                Some(index) => {
                    self.files[index] = true;
                    Ok
                }
                None => Skipped,
            },
            // T → TD once the last file is finished (T8). Finishing early is refused and gives
            // the job back to the queue (the driver is consumed).
            Op::FinishJob if self.work_left() => {
                self.state = Queued;
                Err(hresult::E_UNEXPECTED)
            }
            Op::FinishJob => {
                self.state = Transferred;
                Ok
            }
            // T9/T10 and 3.5: every failure counts; a transient one is retried (TE) while the
            // default timeouts allow it; a fatal one is an Error.
            Op::FailTransient | Op::FailFatal => {
                self.error_count += 1;
                let transient = op == Op::FailTransient;
                self.last_error = Some(if transient { TRANSIENT } else { FATAL });
                self.state = if transient { TransientError } else { Error };
                Ok
            }
            // Time slice over: back to the queue (T7).
            Op::Release => {
                self.state = Queued;
                Ok
            }
            // Retry timer (T12) and no-progress timeout (T13), only from TE.
            Op::RetryNow if self.state == TransientError => {
                self.state = Queued;
                Ok
            }
            Op::FailNoProgress if self.state == TransientError => {
                self.state = Error;
                Ok
            }
            Op::RetryNow | Op::FailNoProgress => INV,
            // Error reports only in E and TE (DESIGN 4), describing the last failure.
            Op::GetError => match self.state {
                Error | TransientError => Report(self.last_error.expect("a failure happened")),
                _ => Err(0x8020_000F),
            },
            Op::WaitZero | Op::PollSettled | Op::DropManager => unreachable!("answered above"),
        }
    }
}

fn is_driver_step(op: Op) -> bool {
    matches!(
        op,
        Op::Connected
            | Op::WriteAndFinishNextFile
            | Op::FinishJob
            | Op::FailTransient
            | Op::FailFatal
            | Op::Release
    )
}

// ---- the real job ---------------------------------------------------------------------------

struct Real {
    dir: tempfile::TempDir,
    /// The only manager handle, until `DropManager`.
    manager: Option<Manager>,
    job: Job,
    /// The same job through another owner's handle (for `take_ownership`).
    other: Job,
    driver: Option<JobDriver>,
    added: usize,
    /// Subscribed before the first step, without progress.
    events: Subscription,
}

impl Real {
    fn new() -> Real {
        let manager = Manager::builder()
            .without_engine()
            .owner("me")
            .max_files_per_job(MAX_FILES as u32)
            .build();
        let job = manager.create_job("model", BgJobType::Download).unwrap();
        let other = manager.as_owner("other").get_job(job.get_id()).unwrap();
        let events = job.subscribe().with_progress_interval(None);
        // A job's subscription starts with its state; the model checks the changes after it.
        let current =
            Notification::StateChanged { job: job.get_id(), state: BgJobState::Suspended };
        assert_eq!(events.try_recv(), Ok(current));
        let dir = tempfile::tempdir().unwrap();
        Real { dir, manager: Some(manager), job, other, driver: None, added: 0, events }
    }

    fn apply(&mut self, op: Op) -> Outcome {
        let outcome = self.run(op);
        // A downloader drops a driver whose claim was revoked.
        if self.driver.as_ref().is_some_and(|d| !d.is_live()) {
            self.driver = None;
        }
        outcome
    }

    fn run(&mut self, op: Op) -> Outcome {
        fn done<T>(result: Result<T>) -> Outcome {
            match result {
                Ok(_) => Outcome::Ok,
                Err(e) => Outcome::Err(e.hresult()),
            }
        }
        fn driven<T>(result: std::result::Result<T, TransferError>) -> Outcome {
            match result {
                Ok(_) => Outcome::Ok,
                Err(e) => Outcome::Err(e.hresult()),
            }
        }
        let job = &self.job;
        match op {
            Op::AddFile => {
                self.added += 1;
                let local = self.dir.path().join(format!("file-{}.bin", self.added));
                done(job.add_file(&remote(self.added), &local))
            }
            Op::AddEmptySet => done(job.add_file_set(&[])),
            Op::Resume => done(job.resume()),
            Op::Suspend => done(job.suspend()),
            Op::Cancel => job.cancel().map_or_else(|e| Outcome::Err(e.hresult()), Outcome::Success),
            Op::Complete => {
                job.complete().map_or_else(|e| Outcome::Err(e.hresult()), Outcome::Success)
            }
            Op::SetPriority => done(job.set_priority(BgJobPriority::High)),
            Op::TakeOwnership => done(self.other.take_ownership()),
            Op::Claim => match job.claim() {
                Ok(driver) => {
                    self.driver = Some(driver);
                    Outcome::Ok
                }
                Err(e) => Outcome::Err(e.hresult()),
            },
            Op::RetryNow => done(job.retry_now()),
            Op::FailNoProgress => done(job.fail_no_progress()),
            Op::GetError => match job.get_error() {
                Ok(report) => Outcome::Report(report.get_error().1),
                Err(e) => Outcome::Err(e.hresult()),
            },
            Op::WaitZero => Outcome::State(job.wait(std::time::Duration::ZERO)),
            Op::PollSettled => {
                let mut settled = job.settled();
                let waker = std::task::Waker::noop();
                let mut cx = std::task::Context::from_waker(waker);
                match std::pin::Pin::new(&mut settled).poll(&mut cx) {
                    std::task::Poll::Ready(state) => Outcome::Settled(Some(state)),
                    std::task::Poll::Pending => Outcome::Settled(None),
                }
            }
            Op::DropManager => {
                self.manager = None;
                Outcome::Ok
            }
            step => {
                let Some(driver) = self.driver.take() else { return Outcome::Skipped };
                match step {
                    Op::Connected => {
                        let outcome = driven(driver.connected());
                        self.driver = Some(driver);
                        outcome
                    }
                    Op::WriteAndFinishNextFile => {
                        let outcome = match driver.next_file() {
                            None => Outcome::Skipped,
                            Some(file) => driven(write_whole(&driver, file.index())),
                        };
                        self.driver = Some(driver);
                        outcome
                    }
                    Op::FinishJob => driven(driver.finish()),
                    Op::FailTransient => driven(driver.fail(transient(TRANSIENT), None)),
                    Op::FailFatal => driven(driver.fail(fatal(FATAL), None)),
                    Op::Release => driven(driver.release()),
                    _ => unreachable!("{step:?}"),
                }
            }
        }
    }
}

fn write_whole(driver: &JobDriver, index: usize) -> std::result::Result<(), TransferError> {
    let mut transfer = driver.open_file(index)?;
    transfer.set_size(Some(FILE_SIZE))?;
    transfer.write(&[index as u8; FILE_SIZE as usize])?;
    transfer.finish()
}

// ---- the property ---------------------------------------------------------------------------

fn check_step(
    real: &Real,
    model: &Model,
    step: usize,
    op: Op,
) -> std::result::Result<(), TestCaseError> {
    let at = format!("step {step} ({op:?}), model {model:?}");
    let job = &real.job;
    prop_assert_eq!(job.get_state(), model.state, "{}", at);
    let progress = job.get_progress();
    prop_assert!(progress.is_consistent(), "{:?} at {}", progress, at);
    prop_assert_eq!(progress.files_total as usize, model.files.len(), "{}", at);
    let transferred = model.files.iter().filter(|done| **done).count();
    prop_assert_eq!(progress.files_transferred as usize, transferred, "{}", at);
    prop_assert_eq!(progress.bytes_transferred, transferred as u64 * FILE_SIZE, "{}", at);
    // Untransferred files never had their size announced: the total is unknown while one exists.
    let total = if model.work_left() { BG_SIZE_UNKNOWN } else { transferred as u64 * FILE_SIZE };
    prop_assert_eq!(progress.bytes_total, total, "{}", at);
    let available = matches!(model.state, Error | TransientError);
    prop_assert_eq!(job.get_error().is_ok(), available, "{}", at);
    prop_assert_eq!(job.get_error_count(), model.error_count, "{}", at);
    let owner = if model.owner_is_other { "other" } else { "me" };
    prop_assert_eq!(job.get_owner(), owner, "{}", at);
    prop_assert_eq!(real.driver.is_some(), model.claimed(), "{}", at);
    if let Some(manager) = &real.manager {
        let listed = manager.enum_all_jobs().iter().any(|j| j.get_id() == job.get_id());
        prop_assert_eq!(listed, !model.is_final(), "{}", at);
    }
    Ok(())
}

/// The notifications a step causes, as the model sees it: the change a call made (a file added,
/// a property set, a file finished, a failure), then the state change, if any.
fn expected_events(
    id: JobId,
    op: Op,
    outcome: Outcome,
    before: BgJobState,
    next_file: Option<usize>,
    model: &Model,
) -> Vec<Notification> {
    let mut events = Vec::new();
    if outcome == Outcome::Ok {
        match op {
            Op::AddFile | Op::SetPriority | Op::TakeOwnership => {
                events.push(Notification::Modified { job: id })
            }
            Op::WriteAndFinishNextFile => events.push(Notification::FileTransferred {
                job: id,
                index: next_file.expect("a file was written"),
            }),
            Op::FailTransient | Op::FailFatal => events.push(Notification::Failed {
                job: id,
                context: BgErrorContext::RemoteFile,
                hresult: if op == Op::FailTransient { TRANSIENT } else { FATAL },
                transient: op == Op::FailTransient,
            }),
            _ => {}
        }
    }
    if model.state != before {
        events.push(Notification::StateChanged { job: id, state: model.state });
    }
    events
}

/// Everything the subscription has received since the last step.
fn received(real: &Real) -> Vec<Notification> {
    let mut got = Vec::new();
    while let Ok(event) = real.events.try_recv() {
        got.push(event);
    }
    got
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn a_job_agrees_with_the_reference_model_after_every_step(ops in ops()) {
        let mut real = Real::new();
        let mut model = Model::new();
        let id = real.job.get_id();
        for (step, op) in ops.into_iter().enumerate() {
            let before = model.state;
            let next_file = model.files.iter().position(|done| !done);
            let expected = model.apply(op);
            let got = real.apply(op);
            prop_assert_eq!(got, expected, "step {} ({:?}), model {:?}", step, op, model);
            check_step(&real, &model, step, op)?;
            let events = expected_events(id, op, expected, before, next_file, &model);
            prop_assert_eq!(received(&real), events, "events of step {} ({:?})", step, op);
        }
        if model.is_final() {
            prop_assert!(real.events.try_recv().is_err(), "the subscription ended");
        }
    }
}

#[test]
fn the_model_reaches_every_state() {
    // A fixed walk through all nine states, so the property above is known to be able to.
    use Op::*;
    let walk = [
        AddFile,
        AddFile,
        Resume,
        Claim,
        Connected,
        WriteAndFinishNextFile,
        FailTransient,
        RetryNow,
        Claim,
        FailFatal,
        Resume,
        Claim,
        Connected,
        WriteAndFinishNextFile,
        FinishJob,
        Suspend,
        AddFile,
        Resume,
        Claim,
        Release,
        Claim,
        Connected,
        WriteAndFinishNextFile,
        FinishJob,
        Complete,
    ];
    let mut real = Real::new();
    let mut model = Model::new();
    let mut seen = std::collections::HashSet::new();
    for (step, op) in walk.into_iter().enumerate() {
        assert_eq!(real.apply(op), model.apply(op), "step {step} ({op:?})");
        check_step(&real, &model, step, op).unwrap();
        seen.insert(model.state);
    }
    let cancelled = Real::new();
    cancelled.job.cancel().unwrap();
    seen.insert(cancelled.job.get_state());
    seen.insert(Suspended);
    assert_eq!(seen.len(), 9, "{seen:?}");
}
