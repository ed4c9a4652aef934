//! The job state machine (spec section 3, DESIGN section 4): every cell of the method × state
//! matrix in the docs of `transition`, checked through real jobs brought into each state with the
//! driver API; final jobs; error reports; the error count; the retry/timeout rules.

use crate::support;

use BgJobState::*;
use bgcopy::transport::{TransferError, TransferSink};
use bgcopy::*;
use std::sync::Arc;
use std::time::Duration;
use support::*;

/// What a call in a state must do (one cell of the matrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// Accepted; the job moves to this state.
    To(BgJobState),
    /// Accepted; the state is unchanged.
    Same,
    /// `BG_E_INVALID_STATE`, state unchanged.
    Inv,
    /// `BG_E_EMPTY`, state unchanged.
    Empty,
}
use Cell::*;

/// The columns of the matrix, in the order of the docs: S Q C T TE E TD A X.
const COLUMNS: [BgJobState; 9] = [
    Suspended,
    Queued,
    Connecting,
    Transferring,
    TransientError,
    Error,
    Transferred,
    Acknowledged,
    Cancelled,
];

/// Checks one call's result against its cell and the state after it.
fn check<T: std::fmt::Debug>(
    what: &str,
    staged: &Staged,
    before: BgJobState,
    result: Result<T>,
    cell: Cell,
) {
    let after = staged.job.get_state();
    let ctx = format!("{what} in {before:?}");
    match cell {
        To(state) => {
            assert!(result.is_ok(), "{ctx}: {result:?}");
            assert_eq!(after, state, "{ctx}");
        }
        Same => {
            assert!(result.is_ok(), "{ctx}: {result:?}");
            assert_eq!(after, before, "{ctx}");
        }
        Inv => {
            let err = result.expect_err(&ctx);
            assert_eq!(err.hresult(), hresult::BG_E_INVALID_STATE, "{ctx}: {err:?}");
            assert_eq!(after, before, "{ctx}");
        }
        Empty => {
            let err = result.expect_err(&ctx);
            assert!(matches!(err, BgError::Empty), "{ctx}: {err:?}");
            assert_eq!(err.hresult(), hresult::BG_E_EMPTY, "{ctx}");
            assert_eq!(after, before, "{ctx}");
        }
    }
}

/// Runs `call` once in every state (both with a file left to transfer and without) and checks the
/// row of the matrix.
fn row(
    what: &str,
    with_work: [Cell; 9],
    without_work: [Cell; 9],
    call: impl Fn(&Fixture, &Staged) -> Result<()>,
) {
    for (work, cells) in [(true, with_work), (false, without_work)] {
        for (state, cell) in COLUMNS.into_iter().zip(cells) {
            let fx = Fixture::new();
            let staged = staged(&fx, state, work);
            let result = call(&fx, &staged);
            check(&format!("{what} (work: {work})"), &staged, state, result, cell);
        }
    }
}

#[test]
fn suspend_moves_every_non_final_state_to_suspended() {
    let s = To(Suspended);
    let cells = [Same, s, s, s, s, s, s, Inv, Inv];
    row("suspend", cells, cells, |_, s| s.job.suspend());
}

#[test]
fn resume_queues_suspended_and_errored_jobs_and_leaves_active_ones() {
    let with_work = [To(Queued), Same, Same, Same, To(Queued), To(Queued), To(Queued), Inv, Inv];
    let without_work = [Empty, Same, Same, Same, Empty, Empty, Empty, Inv, Inv];
    row("resume", with_work, without_work, |_, s| s.job.resume());
}

#[test]
fn resume_without_files_is_empty_and_stays_suspended() {
    let fx = Fixture::new();
    let job = fx.job();
    let err = job.resume().unwrap_err();
    assert!(matches!(err, BgError::Empty));
    assert_eq!(err.hresult(), 0x8020_0003);
    assert_eq!(job.get_state(), Suspended);
    assert_eq!(job.get_progress(), BgJobProgress::default());
}

#[test]
fn resume_with_every_file_transferred_is_empty() {
    let fx = Fixture::new();
    let job = fx.job_with_files(2);
    run_to_transferred(&job);
    job.suspend().unwrap();
    assert_eq!(job.resume().unwrap_err().hresult(), hresult::BG_E_EMPTY);
    assert_eq!(job.get_state(), Suspended);
}

#[test]
fn transferred_job_with_a_new_file_resumes_to_queued() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    run_to_transferred(&job);
    fx.add(&job, 1);
    assert_eq!(job.get_state(), Transferred);
    job.resume().unwrap();
    assert_eq!(job.get_state(), Queued);
    let driver = claim_connected(&job);
    assert_eq!(driver.next_file().map(|f| f.index()), Some(1), "only the new file is left");
}

#[test]
fn cancel_moves_every_non_final_state_to_cancelled() {
    let x = To(Cancelled);
    let cells = [x, x, x, x, x, x, x, Inv, Inv];
    row("cancel", cells, cells, |_, s| s.job.cancel().map(|r| assert_eq!(r, BgSuccess::Ok)));
}

#[test]
fn complete_moves_every_non_final_state_to_acknowledged() {
    let x = To(Acknowledged);
    let cells = [x, x, x, x, x, x, x, Inv, Inv];
    row("complete", cells, cells, |_, s| {
        let untransferred =
            s.job.get_progress().files_transferred < s.job.get_progress().files_total;
        s.job.complete().map(|r| {
            let expected = if untransferred { BgSuccess::PartialComplete } else { BgSuccess::Ok };
            assert_eq!(r, expected);
        })
    });
}

/// A named call that changes a job without changing its state.
type Modifier = (&'static str, Box<dyn Fn(&Fixture, &Staged) -> Result<()>>);

/// Every change that is not a state change: each is accepted in every non-final state and leaves
/// the state alone.
fn modifiers() -> Vec<Modifier> {
    vec![
        ("add_file", Box::new(|fx, s| s.job.add_file(&remote(7), &fx.local(7)))),
        (
            "add_file_set",
            Box::new(|fx, s| {
                s.job.add_file_set(&[
                    BgFileInfo::new(remote(8), fx.local(8)),
                    BgFileInfo::new(remote(9), fx.local(9)),
                ])
            }),
        ),
        ("set_display_name", Box::new(|_, s| s.job.set_display_name("renamed"))),
        ("set_description", Box::new(|_, s| s.job.set_description("described"))),
        ("set_priority", Box::new(|_, s| s.job.set_priority(BgJobPriority::High))),
        ("set_notify_flags", Box::new(|_, s| s.job.set_notify_flags(BgNotify::JOB_MODIFICATION))),
        (
            "set_notify_interface",
            Box::new(|_, s| s.job.set_notify_interface(Some(Arc::new(NoopCallback)))),
        ),
        (
            "set_minimum_retry_delay",
            Box::new(|_, s| s.job.set_minimum_retry_delay(Duration::from_secs(60))),
        ),
        (
            "set_no_progress_timeout",
            Box::new(|_, s| s.job.set_no_progress_timeout(Duration::from_secs(3600))),
        ),
        (
            "set_proxy_settings",
            Box::new(|_, s| s.job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None)),
        ),
        ("take_ownership", Box::new(|_, s| s.job.take_ownership())),
    ]
}

#[test]
fn every_setter_add_file_and_take_ownership_keep_the_state_and_fail_only_in_final_states() {
    let cells = [Same, Same, Same, Same, Same, Same, Same, Inv, Inv];
    for (what, call) in modifiers() {
        row(what, cells, cells, |fx, s| call(fx, s));
    }
}

#[test]
fn a_driver_keeps_its_claim_through_setters_and_add_file() {
    let fx = Fixture::new();
    let staged = staged(&fx, Transferring, true);
    for (what, call) in modifiers() {
        call(&fx, &staged).unwrap_or_else(|e| panic!("{what}: {e:?}"));
    }
    let driver = staged.driver.expect("driver");
    assert!(driver.is_live());
    transfer_remaining(&driver);
    driver.finish().unwrap();
    assert_eq!(staged.job.get_state(), Transferred);
}

// ---- driver events ------------------------------------------------------------------------

#[test]
fn only_a_queued_job_can_be_claimed() {
    let cells = [Inv, To(Connecting), Inv, Inv, Inv, Inv, Inv, Inv, Inv];
    // The drivers are kept until the state was checked (dropping one releases its claim).
    let held = std::cell::RefCell::new(Vec::new());
    row("claim", cells, cells, |_, s| s.job.claim().map(|driver| held.borrow_mut().push(driver)));
}

#[test]
fn retry_now_moves_only_a_transient_error_to_queued() {
    let cells = [Inv, Inv, Inv, Inv, To(Queued), Inv, Inv, Inv, Inv];
    row("retry_now", cells, cells, |_, s| s.job.retry_now());
}

#[test]
fn fail_no_progress_moves_only_a_transient_error_to_error() {
    let cells = [Inv, Inv, Inv, Inv, To(Error), Inv, Inv, Inv, Inv];
    row("fail_no_progress", cells, cells, |_, s| s.job.fail_no_progress());
}

/// Runs `step` on the driver of a job staged in `Connecting` and in `Transferring`; `step` returns
/// the state it reports and the driver if it still holds one (kept until the state is checked).
fn for_claimed(
    step: impl Fn(JobDriver) -> (BgJobState, Option<JobDriver>),
    expected: [BgJobState; 2],
) {
    for (state, expected) in [Connecting, Transferring].into_iter().zip(expected) {
        let fx = Fixture::new();
        let staged = staged(&fx, state, false);
        let (reported, _driver) = step(staged.driver.expect("driver"));
        assert_eq!(staged.job.get_state(), expected, "from {state:?}");
        assert_eq!(reported, expected, "from {state:?}");
    }
}

#[test]
fn connected_moves_connecting_to_transferring_and_keeps_transferring() {
    for_claimed(
        |driver| {
            driver.connected().unwrap();
            (driver.job().get_state(), Some(driver))
        },
        [Transferring, Transferring],
    );
}

#[test]
fn finishing_the_last_file_and_the_job_moves_to_transferred() {
    for_claimed(
        |driver| {
            let job = driver.job().clone();
            driver.finish().unwrap();
            (job.get_state(), None)
        },
        [Transferred, Transferred],
    );
}

#[test]
fn driver_finish_with_files_left_is_refused() {
    let fx = Fixture::new();
    let staged = staged(&fx, Transferring, true);
    let driver = staged.driver.unwrap();
    let err = driver.finish().unwrap_err();
    assert!(!err.is_transient());
    assert_eq!(err.hresult(), hresult::E_UNEXPECTED);
    // The refused finish consumed the driver, which released the job.
    assert_eq!(staged.job.get_state(), Queued);
}

#[test]
fn a_transient_failure_moves_connecting_and_transferring_to_transient_error() {
    for_claimed(
        |driver| (driver.fail(transient(hresult::BG_E_CONNECTION_CLOSED), None).unwrap(), None),
        [TransientError, TransientError],
    );
}

#[test]
fn a_fatal_failure_moves_connecting_and_transferring_to_error() {
    for_claimed(
        |driver| (driver.fail(fatal(hresult::E_ACCESSDENIED), None).unwrap(), None),
        [Error, Error],
    );
}

#[test]
fn release_moves_connecting_and_transferring_back_to_queued() {
    for_claimed(
        |driver| {
            let job = driver.job().clone();
            driver.release().unwrap();
            (job.get_state(), None)
        },
        [Queued, Queued],
    );
}

#[test]
fn dropping_a_driver_releases_the_job_to_queued() {
    let fx = Fixture::new();
    let staged = staged(&fx, Transferring, true);
    drop(staged.driver);
    assert_eq!(staged.job.get_state(), Queued);
    let _driver = staged.job.claim().expect("claimable again");
}

#[test]
fn failing_with_stopped_only_releases_the_claim() {
    let fx = Fixture::new();
    let staged = staged(&fx, Transferring, true);
    let state = staged.driver.unwrap().fail(TransferError::Stopped, Some(0)).unwrap();
    assert_eq!(state, Queued);
    assert_eq!(staged.job.get_error_count(), 0);
    assert!(staged.job.get_error().is_err());
}

#[test]
fn a_second_claim_while_a_driver_exists_is_refused() {
    let fx = Fixture::new();
    let staged = staged(&fx, Connecting, true);
    let err = staged.job.claim().unwrap_err();
    assert_eq!(err.hresult(), hresult::BG_E_INVALID_STATE);
}

#[test]
fn a_driver_whose_job_was_suspended_cancelled_or_completed_is_stopped() {
    for stop in ["suspend", "cancel", "complete"] {
        let fx = Fixture::new();
        let staged = staged(&fx, Transferring, true);
        let driver = staged.driver.unwrap();
        let mut transfer = driver.open_file(0).unwrap();
        match stop {
            "suspend" => staged.job.suspend().unwrap(),
            "cancel" => assert_eq!(staged.job.cancel().unwrap(), BgSuccess::Ok),
            _ => assert_eq!(staged.job.complete().unwrap(), BgSuccess::PartialComplete),
        }
        let state = staged.job.get_state();
        assert!(!driver.is_live(), "{stop}");
        assert!(transfer.should_stop(), "{stop}");
        assert_eq!(transfer.write(b"late").unwrap_err(), TransferError::Stopped, "{stop}");
        assert_eq!(transfer.finish().unwrap_err(), TransferError::Stopped, "{stop}");
        assert_eq!(driver.connected().unwrap_err(), TransferError::Stopped, "{stop}");
        assert_eq!(driver.open_file(0).unwrap_err(), TransferError::Stopped, "{stop}");
        let err = driver.fail(fatal(hresult::E_FAIL), None).unwrap_err();
        assert_eq!(err, TransferError::Stopped, "{stop}");
        assert_eq!(staged.job.get_state(), state, "{stop}: a stopped driver changes nothing");
        assert_eq!(staged.job.get_error_count(), 0, "{stop}");
        assert_eq!(staged.job.get_progress().bytes_transferred, 0, "{stop}");
    }
}

// ---- final jobs ---------------------------------------------------------------------------

#[test]
fn final_jobs_reject_every_change_with_invalid_state() {
    for state in [Acknowledged, Cancelled] {
        let fx = Fixture::new();
        let staged = staged(&fx, state, false);
        let job = &staged.job;
        let inv = |what: &str, result: Result<()>| {
            let err = result.expect_err(what);
            assert!(matches!(err, BgError::InvalidState { state: s, .. } if s == state), "{what}");
            assert_eq!(err.hresult(), 0x8020_0002, "{what}");
        };
        inv("suspend", job.suspend());
        inv("resume", job.resume());
        inv("cancel", job.cancel().map(drop));
        inv("complete", job.complete().map(drop));
        for (what, call) in modifiers() {
            inv(what, call(&fx, &staged));
        }
        inv("set_notify_interface(None)", job.set_notify_interface(None));
        inv("claim", job.claim().map(drop));
        inv("retry_now", job.retry_now());
        inv("fail_no_progress", job.fail_no_progress());
        assert_eq!(job.get_state(), state);
    }
}

#[test]
fn final_jobs_answer_every_getter() {
    for state in [Acknowledged, Cancelled] {
        let fx = Fixture::new();
        let job = fx.job_with_files(1);
        job.set_description("kept").unwrap();
        let id = job.get_id();
        let owner = job.get_owner();
        run_to_transferred(&job);
        if state == Acknowledged {
            job.complete().unwrap();
        } else {
            job.cancel().unwrap();
        }
        assert_eq!(job.get_state(), state);
        assert_eq!(job.get_id(), id);
        assert_eq!(job.get_type(), BgJobType::Download);
        let progress = job.get_progress();
        assert_eq!((progress.files_total, progress.files_transferred), (1, 1));
        assert_eq!(progress.bytes_transferred, content(0).len() as u64);
        assert!(job.get_times().transfer_completion_time.is_some());
        assert_eq!(job.get_owner(), owner);
        assert_eq!(job.get_display_name(), "test job");
        assert_eq!(job.get_description(), "kept");
        assert_eq!(job.get_priority(), BgJobPriority::Normal);
        assert_eq!(job.get_notify_flags(), BgNotify::JOB_TRANSFERRED | BgNotify::JOB_ERROR);
        assert!(job.get_notify_interface().is_none());
        assert_eq!(job.get_minimum_retry_delay(), Duration::from_secs(600));
        assert_eq!(job.get_no_progress_timeout(), Duration::from_secs(1_209_600));
        assert_eq!(job.get_error_count(), 0);
        assert_eq!(job.get_proxy_settings().usage, BgJobProxyUsage::Preconfig);
        let files = job.enum_files();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].get_local_name(), fx.local(0));
        assert_eq!(files[0].get_progress().completed, state == Acknowledged);
        assert!(matches!(job.get_error(), Err(BgError::ErrorInformationUnavailable)));
    }
}

#[test]
fn final_jobs_leave_enum_jobs_and_get_job_but_handles_keep_working() {
    for state in [Acknowledged, Cancelled] {
        let fx = Fixture::new();
        let keep = fx.job_with_files(1);
        let staged = staged(&fx, state, false);
        let id = staged.job.get_id();
        let listed: Vec<JobId> = fx.manager.enum_jobs().iter().map(|j| j.get_id()).collect();
        assert_eq!(listed, vec![keep.get_id()], "{state:?}");
        assert!(!fx.manager.enum_all_jobs().iter().any(|j| j.get_id() == id), "{state:?}");
        let err = fx.manager.get_job(id).unwrap_err();
        assert!(matches!(err, BgError::NotFound), "{state:?}");
        assert_eq!(err.hresult(), hresult::BG_E_NOT_FOUND);
        // Every handle, including a clone taken before, still answers.
        let clone = staged.job.clone();
        assert_eq!(clone.get_state(), state);
        assert_eq!(clone.get_id(), id);
        assert_eq!(clone.get_progress().files_total, 1);
    }
}

#[test]
fn get_job_finds_every_non_final_job() {
    for state in COLUMNS.into_iter().filter(|s| !s.is_final()) {
        let fx = Fixture::new();
        let staged = staged(&fx, state, true);
        let found = fx.manager.get_job(staged.job.get_id()).expect("get_job");
        assert_eq!(found.get_state(), state);
        assert_eq!(fx.manager.enum_jobs().len(), 1, "{state:?}");
    }
}

// ---- error reports --------------------------------------------------------------------------

#[test]
fn get_error_is_available_only_in_error_and_transient_error() {
    for work in [true, false] {
        for state in COLUMNS {
            let fx = Fixture::new();
            let staged = staged(&fx, state, work);
            match staged.job.get_error() {
                Ok(error) => {
                    assert!(matches!(state, Error | TransientError), "{state:?}");
                    let expected = if state == Error {
                        hresult::BG_E_HTTP_ERROR_404
                    } else {
                        hresult::BG_E_CONNECTION_CLOSED
                    };
                    assert_eq!(error.get_error(), (BgErrorContext::RemoteFile, expected));
                }
                Err(err) => {
                    assert!(!matches!(state, Error | TransientError), "{state:?}");
                    assert!(matches!(err, BgError::ErrorInformationUnavailable));
                    assert_eq!(err.hresult(), 0x8020_000F);
                }
            }
        }
    }
}

#[test]
fn get_error_is_unavailable_once_the_job_leaves_the_error_states() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    claim_connected(&job).fail(fatal(hresult::E_ACCESSDENIED), Some(0)).unwrap();
    assert!(job.get_error().is_ok());
    // Suspended, queued, connecting: the report is not readable (DESIGN: only in E/TE).
    job.suspend().unwrap();
    assert!(matches!(job.get_error(), Err(BgError::ErrorInformationUnavailable)));
    job.resume().unwrap();
    assert!(matches!(job.get_error(), Err(BgError::ErrorInformationUnavailable)));
    let driver = job.claim().unwrap();
    assert!(matches!(job.get_error(), Err(BgError::ErrorInformationUnavailable)));
    driver.connected().unwrap();
    transfer_remaining(&driver);
    driver.finish().unwrap();
    assert!(matches!(job.get_error(), Err(BgError::ErrorInformationUnavailable)));
}

#[test]
fn transferring_again_discards_the_old_error_report() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    claim_connected(&job).fail(transient(hresult::BG_E_CONNECTION_CLOSED), Some(0)).unwrap();
    job.retry_now().unwrap();
    // Connecting again and failing before any transfer: the old report is replaced.
    let driver = job.claim().unwrap();
    driver.connected().unwrap();
    // A failure without a file after transferring again reports only the new failure.
    driver.fail(fatal(hresult::E_ACCESSDENIED), None).unwrap();
    let error = job.get_error().unwrap();
    assert_eq!(error.get_error(), (BgErrorContext::RemoteFile, hresult::E_ACCESSDENIED));
    assert!(matches!(error.get_file(), Err(BgError::FileNotAvailable)));
}

#[test]
fn error_count_rises_by_one_per_failure_and_is_never_reset() {
    let fx = Fixture::new();
    let job = fx.job_with_files(2);
    assert_eq!(job.get_error_count(), 0);
    job.resume().unwrap();
    claim_connected(&job).fail(transient(hresult::BG_E_CONNECTION_CLOSED), Some(0)).unwrap();
    assert_eq!(job.get_error_count(), 1);
    job.retry_now().unwrap();
    // A failure while still connecting counts too.
    job.claim().unwrap().fail(transient(hresult::BG_E_CONNECTION_CLOSED), None).unwrap();
    assert_eq!(job.get_error_count(), 2);
    job.fail_no_progress().unwrap(); // giving up is not another failed attempt
    assert_eq!(job.get_error_count(), 2);
    job.resume().unwrap();
    claim_connected(&job).fail(fatal(hresult::E_ACCESSDENIED), Some(1)).unwrap();
    assert_eq!(job.get_error_count(), 3);
    // Releases, suspends and a clean transfer do not count and do not reset.
    job.resume().unwrap();
    claim_connected(&job).release().unwrap();
    job.suspend().unwrap();
    run_to_transferred(&job);
    assert_eq!(job.get_error_count(), 3);
    job.complete().unwrap();
    assert_eq!(job.get_error_count(), 3);
}

#[test]
fn no_progress_timeout_zero_makes_a_transient_failure_final() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.set_no_progress_timeout(Duration::ZERO).unwrap();
    job.resume().unwrap();
    let state = claim_connected(&job).fail(transient(hresult::BG_E_CONNECTION_CLOSED), Some(0));
    assert_eq!(state.unwrap(), Error);
    assert_eq!(job.get_state(), Error);
    assert_eq!(job.get_error_count(), 1);
    assert_eq!(job.get_error().unwrap().get_error().1, hresult::BG_E_CONNECTION_CLOSED);
}

#[test]
fn retry_delay_longer_than_no_progress_timeout_makes_a_transient_failure_final() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.set_no_progress_timeout(Duration::from_secs(10)).unwrap();
    job.set_minimum_retry_delay(Duration::from_secs(11)).unwrap();
    job.resume().unwrap();
    let state = claim_connected(&job).fail(transient(hresult::BG_E_CONNECTION_CLOSED), Some(0));
    assert_eq!(state.unwrap(), Error);
}

#[test]
fn retry_delay_equal_to_no_progress_timeout_still_retries() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.set_no_progress_timeout(Duration::from_secs(10)).unwrap();
    job.set_minimum_retry_delay(Duration::from_secs(10)).unwrap();
    job.resume().unwrap();
    let state = claim_connected(&job).fail(transient(hresult::BG_E_CONNECTION_CLOSED), Some(0));
    assert_eq!(state.unwrap(), TransientError);
}

#[test]
fn a_fatal_failure_goes_to_error_whatever_the_timeouts() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.set_minimum_retry_delay(Duration::from_secs(5)).unwrap();
    job.resume().unwrap();
    let state = claim_connected(&job).fail(fatal(hresult::E_ACCESSDENIED), Some(0));
    assert_eq!(state.unwrap(), Error);
}

#[test]
fn a_transient_error_keeps_the_bytes_and_the_next_claim_continues_after_them() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let mut transfer = driver.open_file(0).unwrap();
    transfer.set_size(Some(10)).unwrap();
    transfer.write(b"hello").unwrap();
    drop(transfer);
    driver.fail(transient(hresult::BG_E_CONNECTION_CLOSED), Some(0)).unwrap();
    assert_eq!(job.get_progress().bytes_transferred, 5);
    job.retry_now().unwrap();
    let driver = claim_connected(&job);
    let mut transfer = driver.open_file(0).unwrap();
    assert_eq!(transfer.offset(), 5);
    assert_eq!(transfer.size(), Some(10));
    transfer.write(b"world").unwrap();
    transfer.finish().unwrap();
    driver.finish().unwrap();
    job.complete().unwrap();
    assert_eq!(std::fs::read(fx.local(0)).unwrap(), b"helloworld");
}
